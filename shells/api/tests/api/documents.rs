//! `/v1/documents` and fonts.

use ode_sdk::api::{DocumentInput, RenderRequest};
use ode_sdk::domain::SourceKind;
use serde_json::json;

use crate::helpers::{TestApp, pdf_text};

fn doc(text: &str) -> DocumentInput {
    DocumentInput {
        kind: SourceKind::Document,
        name: text.into(),
        source: json!({"ode": 1, "content": [{"type": "paragraph", "text": text}]}),
    }
}

async fn documents_are_created_read_replaced_listed_and_deleted(app: TestApp) {
    let c = &app.client;
    let created = c.create_document(&doc("first version")).await.unwrap();
    assert_eq!(created.version, 1);
    let got = c.document(created.id).await.unwrap();
    assert_eq!(
        got.source.as_ref().unwrap()["content"][0]["text"],
        "first version"
    );
    let replaced = c
        .replace_document(created.id, &doc("second version"))
        .await
        .unwrap();
    assert_eq!(replaced.version, 2);
    let pdf = c
        .render(&RenderRequest {
            document_id: Some(created.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(pdf_text(&pdf.bytes).contains("second version"));
    // Pagination over several pages, newest first.
    for i in 0..5 {
        c.create_document(&doc(&format!("d{i}"))).await.unwrap();
    }
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let page = c.documents(None, after.as_deref(), Some(2)).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|d| d.name.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ["d4", "d3", "d2", "d1", "d0", "second version"]);
    c.delete_document(created.id).await.unwrap();
    assert_eq!(
        c.document(created.id).await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        c.delete_document(created.id).await.unwrap_err().status(),
        Some(404)
    );
}

async fn an_invalid_source_is_refused_and_nothing_is_stored(app: TestApp) {
    let c = &app.client;
    let bad = DocumentInput {
        kind: SourceKind::Document,
        name: "bad".into(),
        source: json!({"ode": 1, "content": [{"type": "tabel"}]}),
    };
    let e = c.create_document(&bad).await.unwrap_err();
    assert_eq!(e.status(), Some(422), "{e}");
    assert!(e.to_string().contains("/content/0"), "{e}");
    let bad_template = DocumentInput {
        kind: SourceKind::Template,
        name: "bad".into(),
        source: json!({"ode": 1, "content": [{"type": "paragraph", "text": "{{ unclosed"}]}),
    };
    assert_eq!(
        c.create_document(&bad_template).await.unwrap_err().status(),
        Some(422)
    );
    assert!(
        c.documents(None, None, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // A failed replacement keeps the stored version.
    let good = c.create_document(&doc("keep me")).await.unwrap();
    assert_eq!(
        c.replace_document(good.id, &bad)
            .await
            .unwrap_err()
            .status(),
        Some(422)
    );
    let got = c.document(good.id).await.unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(got.source.unwrap()["content"][0]["text"], "keep me");
}

async fn stored_assets_and_tenant_fonts_are_used_by_renders(app: TestApp) {
    let c = &app.client;
    let logo = std::fs::read(crate::helpers::examples().join("assets/chart.png")).unwrap();
    let d = c
        .create_document(&DocumentInput {
            kind: SourceKind::Document,
            name: "with image".into(),
            source: json!({"ode": 1, "content": [{"type": "image", "src": "img/chart.png", "width": "3cm"}]}),
        })
        .await
        .unwrap();
    c.put_asset(d.id, "img/chart.png", logo).await.unwrap();
    assert_eq!(
        c.put_asset(d.id, "a//b.png", vec![1])
            .await
            .unwrap_err()
            .status(),
        Some(400)
    );
    let pdf = c
        .render(&RenderRequest {
            document_id: Some(d.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pdf.warnings, 0, "the image is found");
    // A tenant font, chosen by family.
    // (Debian's fonts-noto-core, which the test command installs.)
    let font =
        std::fs::read("/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf").unwrap();
    let info = c
        .upload_font("NotoSansDevanagari-Regular.ttf", font)
        .await
        .unwrap();
    assert_eq!(info.family, "Noto Sans Devanagari");
    assert_eq!(c.fonts().await.unwrap().len(), 1);
    let pdf = c
        .render(&RenderRequest {
            document: Some(
                json!({"ode": 1, "content": [{"type": "paragraph", "text": "नमस्ते दुनिया"}]}),
            ),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pdf.warnings, 0, "every character has a glyph");
    assert!(
        crate::helpers::pdf_fonts(&pdf.bytes).contains("NotoSansDevanagari"),
        "the uploaded font is embedded for the Devanagari text"
    );
    assert_eq!(
        c.upload_font("x.ttf", b"not a font".to_vec())
            .await
            .unwrap_err()
            .status(),
        Some(422)
    );
    c.delete_font(info.id).await.unwrap();
    assert!(c.fonts().await.unwrap().is_empty());
}

crate::both_backends!(
    documents_are_created_read_replaced_listed_and_deleted,
    an_invalid_source_is_refused_and_nothing_is_stored,
    stored_assets_and_tenant_fonts_are_used_by_renders,
);
