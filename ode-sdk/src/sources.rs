//! Rendering templates with data and Markdown.

use serde_json::Value;

use crate::{Format, PngOptions, RenderError, Rendered, Renderer};
use ode_core::Diagnostics;
use ode_core::template::Template;

impl Renderer {
    /// Expands a template with data and renders the result.
    ///
    /// ```
    /// use ode_sdk::ode_core::template::Template;
    /// let t = Template::parse(
    ///     r#"{"ode": 1, "content": [{"$each": "names", "do": {"type": "paragraph", "text": "Dear {{ item }},"}}]}"#,
    /// ).unwrap();
    /// let data = serde_json::json!({"names": ["Ada", "Grace"]});
    /// let rendered = ode_sdk::Renderer::new()
    ///     .render_template(&t, &data, ode_sdk::Format::Pdf)
    ///     .unwrap();
    /// assert_eq!(rendered.pages, 1);
    /// ```
    ///
    /// # Errors
    /// [`RenderError::Invalid`] with template errors (at template paths, with the data
    /// path involved) or errors of the expanded document.
    pub fn render_template(
        &self,
        template: &Template,
        data: &Value,
        format: Format,
    ) -> Result<Rendered, RenderError> {
        let doc = template
            .document_with(data, self.guard())
            .map_err(RenderError::Invalid)?;
        self.render_model(&doc, format, &PngOptions::default(), None)
    }

    /// Renders a document given as a JSON value.
    ///
    /// # Errors
    /// [`RenderError::Invalid`] with every problem found.
    pub fn render_value(&self, doc: &Value, format: Format) -> Result<Rendered, RenderError> {
        let doc = ode_core::model::from_value(doc).map_err(RenderError::Invalid)?;
        self.render_model(&doc, format, &PngOptions::default(), None)
    }

    /// Renders Markdown (with optional YAML front matter). Image paths are read
    /// relative to the asset folder.
    ///
    /// ```
    /// let md = "---\ntitle: Notes\n---\n# Day one\n\nIt *rained*.\n";
    /// let rendered = ode_sdk::Renderer::new().render_markdown(md, ode_sdk::Format::Svg).unwrap();
    /// assert_eq!(rendered.pages, 1);
    /// ```
    ///
    /// # Errors
    /// [`RenderError::Invalid`] with front matter errors (with lines) or problems found
    /// while rendering (a missing image, say).
    pub fn render_markdown(&self, markdown: &str, format: Format) -> Result<Rendered, RenderError> {
        let converted = ode_core::markdown::to_document(markdown).map_err(RenderError::Invalid)?;
        let mut rendered = self
            .render_value(&converted.output, format)
            .map_err(|e| match e {
                RenderError::Invalid(mut d) => {
                    let mut all = converted.warnings.clone();
                    all.append(&mut d.0);
                    RenderError::Invalid(Diagnostics(all))
                }
                other => other,
            })?;
        let mut warnings = converted.warnings;
        warnings.append(&mut rendered.warnings);
        rendered.warnings = warnings;
        Ok(rendered)
    }
}
