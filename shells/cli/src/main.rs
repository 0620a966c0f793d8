//! `ode`: render, validate and describe ODE documents.
//!
//! Exit codes: 0 success, 1 invalid input (diagnostics on stderr as
//! `file: /json/path: message`), 2 wrong usage.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc (memory returns to the system after a spike), counting what each render
/// holds so that the service can bound it.
#[global_allocator]
static ALLOC: ode_alloc::Counting = ode_alloc::Counting;

mod serve;
mod sources;
use ode_sdk::{
    Diagnostic, Format, Output, PdfOptions, PdfStandard, PngOptions, RenderError, Renderer,
};

#[derive(Parser)]
#[command(
    name = "ode",
    version,
    about = "ODE, the Oxidized Document Engine: JSON documents to PDF, SVG and PNG"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a document to PDF, SVG or PNG.
    Render {
        /// The document, template or Markdown file (`.md`); `-` reads standard input.
        input: PathBuf,
        /// Where to write (`-` writes standard output). SVG or PNG with several pages
        /// writes NAME-1.svg, NAME-2.svg, … unless --page picks one.
        #[arg(short, long, required_unless_present = "out_dir")]
        output: Option<PathBuf>,
        /// Data for a template: JSON, YAML, CSV or JSON Lines, by extension. With
        /// --out-dir or --merge, each element, row or line is one record.
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
        /// Mail merge: one file per data record in this folder, rendered on every core.
        #[arg(long, value_name = "DIR", requires = "data", conflicts_with = "output")]
        out_dir: Option<PathBuf>,
        /// Mail merge: one PDF with a section per data record (written to --output).
        #[arg(long, requires = "data")]
        merge: bool,
        /// With --merge: number each record's pages from 1.
        #[arg(long, requires = "merge")]
        restart_page_numbers: bool,
        /// With --out-dir: the file name of each record, a template expression such as
        /// "invoice-{{ number }}" (default: the template's `file_name`, or NAME-0001.pdf…).
        #[arg(long, value_name = "EXPR", requires = "out_dir")]
        name: Option<String>,
        /// Render missing template values as empty instead of failing.
        #[arg(long)]
        lenient: bool,
        /// With --out-dir: how many records to render at once (default: one per core).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Output format; by default the output's extension decides (PDF otherwise).
        #[arg(short, long, value_enum)]
        format: Option<FormatArg>,
        /// A font file (TTF, OTF, TTC) to add; repeatable.
        #[arg(long = "font", value_name = "PATH")]
        fonts: Vec<PathBuf>,
        /// With SVG or PNG: only this page (1-based).
        #[arg(long)]
        page: Option<usize>,
        /// With PNG: the resolution in pixels per inch (72 gives one pixel per point).
        #[arg(long, default_value_t = 96.0, value_parser = parse_dpi)]
        dpi: f32,
        /// With PDF: leave out the logical structure (tagged PDF is the default).
        #[arg(long)]
        untagged: bool,
        /// With PDF: a standard the file must conform to, checked as it is written
        /// (a-1b, a-2b, a-2u, a-2a, a-3b, a-3u, a-3a, a-4, a-4f, a-4e, ua-1); repeatable,
        /// and replaces the document's own `pdf.standard`.
        #[arg(long = "pdf-standard", value_name = "NAME", value_parser = parse_standard)]
        pdf_standards: Vec<PdfStandard>,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
        /// Change a limit on what the render may cost, such as max_pages=50000 or
        /// max_image_pixels=100000000 (docs/security.md lists them); repeatable.
        #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
        limits: Vec<(String, serde_json::Value)>,
    },
    /// Check a document: every error and warning, no output.
    Validate {
        /// The document (`-` reads standard input).
        input: PathBuf,
        /// A font file to add; repeatable.
        #[arg(long = "font", value_name = "PATH")]
        fonts: Vec<PathBuf>,
        /// Change a limit (see `ode render --limit`); repeatable.
        #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
        limits: Vec<(String, serde_json::Value)>,
    },
    /// Print the JSON Schema of the document format.
    Schema,
    /// Run the HTTP API and an export worker in one process. With no settings this is
    /// the embedded setup: an SQLite file and blobs under ./ode-data, an in-memory queue.
    Serve {
        /// Settings file (YAML); `ODE__SECTION__FIELD` variables override it.
        #[arg(long, env = "ODE_CONFIG")]
        config: Option<PathBuf>,
        /// Where the SQLite file and local blobs go (default ./ode-data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address to listen on (default 127.0.0.1).
        #[arg(long)]
        host: Option<String>,
        /// Port to listen on (default 8080; 0 picks a free one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Manage tenants and API keys of a service (same settings as `serve`).
    Admin {
        /// Settings file (YAML); `ODE__SECTION__FIELD` variables override it.
        #[arg(long, env = "ODE_CONFIG")]
        config: Option<PathBuf>,
        /// Data directory of an embedded setup (default ./ode-data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a tenant and its first API key (printed once; only its hash is kept).
    CreateTenant {
        /// A name for people.
        name: String,
    },
    /// Create another API key for a tenant.
    CreateKey {
        /// The tenant's id.
        #[arg(long)]
        tenant: String,
        /// A name for the key.
        #[arg(long, default_value = "api key")]
        name: String,
    },
    /// List the tenants.
    ListTenants,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Pdf,
    Svg,
    Png,
}

fn parse_standard(s: &str) -> Result<PdfStandard, String> {
    PdfStandard::parse(s)
}

/// `NAME=VALUE`, checked against the limits' names and kinds.
fn parse_limit(s: &str) -> Result<(String, serde_json::Value), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| "expected NAME=VALUE, such as max_pages=50000".to_string())?;
    let value: serde_json::Value = value
        .trim()
        .parse::<u64>()
        .map(Into::into)
        .map_err(|_| format!("{name}: expected a whole number, found \"{value}\""))?;
    ode_sdk::Limits::default().set(name.trim(), value.clone())?;
    Ok((name.trim().to_string(), value))
}

/// The default limits with the `--limit` changes.
fn limits(changes: &[(String, serde_json::Value)]) -> ode_sdk::Limits {
    let mut limits = ode_sdk::Limits::default();
    for (name, value) in changes {
        // Checked when the argument was parsed.
        let _ = limits.set(name, value.clone());
    }
    limits
}

fn parse_dpi(s: &str) -> Result<f32, String> {
    let range = ode_sdk::ode_core::export::png::DPI_RANGE;
    match s.parse::<f32>() {
        Ok(d) if range.contains(&d) => Ok(d),
        _ => Err(format!(
            "expected a number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// A failure and its exit code.
struct Failure(u8, String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            if !msg.is_empty() {
                eprintln!("{msg}");
            }
            ExitCode::from(code)
        }
    }
}

fn display_name(input: &Path) -> String {
    if input == Path::new("-") {
        "<stdin>".into()
    } else {
        input.display().to_string()
    }
}

fn read_input(input: &Path) -> Result<String, Failure> {
    let mut s = String::new();
    if input == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure(1, format!("<stdin>: cannot read: {e}")))?;
    } else {
        s = std::fs::read_to_string(input)
            .map_err(|e| Failure(1, format!("{}: cannot read: {e}", input.display())))?;
    }
    Ok(s)
}

fn renderer(input: &Path, fonts: &[PathBuf], limits: ode_sdk::Limits) -> Result<Renderer, Failure> {
    let dir = match input.parent() {
        Some(p) if input != Path::new("-") && !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut r = Renderer::new().with_asset_dir(dir).with_limits(limits);
    // A font that breaks a font library is refused with its reason (the check catches
    // the library's panic): its raw panic message is not printed besides.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = None;
    for f in fonts {
        match r.clone().with_font_file(f) {
            Ok(next) => r = next,
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        }
    }
    std::panic::set_hook(hook);
    match failed {
        Some(e) => Err(Failure(1, e)),
        None => Ok(r),
    }
}

fn report(file: &str, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("{file}: {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve {
            config,
            data_dir,
            host,
            port,
        } => serve::serve(serve::settings(config.as_deref(), data_dir, host, port)?),
        Command::Admin {
            config,
            data_dir,
            command,
        } => {
            let settings = serve::settings(config.as_deref(), data_dir, None, None)?;
            serve::admin(
                settings,
                match command {
                    AdminCommand::CreateTenant { name } => serve::Admin::CreateTenant { name },
                    AdminCommand::CreateKey { tenant, name } => {
                        serve::Admin::CreateKey { tenant, name }
                    }
                    AdminCommand::ListTenants => serve::Admin::ListTenants,
                },
            )
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&ode_sdk::ode_core::model::schema())
                .expect("schema serializes");
            println!("{schema}");
            Ok(())
        }
        Command::Validate {
            input,
            fonts,
            limits: changes,
        } => {
            let json = read_input(&input)?;
            let name = display_name(&input);
            let diags = renderer(&input, &fonts, limits(&changes))?.validate(&json);
            if !diags.is_empty() {
                eprintln!("{}", report(&name, &diags));
            }
            if diags.iter().any(Diagnostic::is_error) {
                return Err(Failure(1, String::new()));
            }
            Ok(())
        }
        Command::Render {
            input,
            output,
            data,
            out_dir,
            merge,
            restart_page_numbers,
            name: file_name,
            lenient,
            jobs,
            format,
            fonts,
            page,
            dpi,
            untagged,
            pdf_standards,
            quiet,
            limits: changes,
        } => {
            let ext = output
                .as_deref()
                .and_then(Path::extension)
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            let format = match format {
                Some(FormatArg::Pdf) => Format::Pdf,
                Some(FormatArg::Svg) => Format::Svg,
                Some(FormatArg::Png) => Format::Png,
                None if ext.as_deref() == Some("svg") => Format::Svg,
                None if ext.as_deref() == Some("png") => Format::Png,
                None => Format::Pdf,
            };
            if page.is_some() && format == Format::Pdf {
                return Err(Failure(
                    2,
                    "error: --page goes with SVG or PNG output".into(),
                ));
            }
            if (untagged || !pdf_standards.is_empty()) && format != Format::Pdf {
                return Err(Failure(
                    2,
                    "error: --untagged and --pdf-standard go with PDF output".into(),
                ));
            }
            if page == Some(0) {
                return Err(Failure(2, "error: --page counts from 1".into()));
            }
            let r = renderer(&input, &fonts, limits(&changes))?.with_pdf_options(PdfOptions {
                tagged: !untagged,
                standards: pdf_standards,
                ..PdfOptions::default()
            });
            if out_dir.is_some() || merge {
                if merge && format != Format::Pdf {
                    return Err(Failure(2, "error: --merge writes PDF".into()));
                }
                let data = data.as_deref().expect("clap requires --data");
                return sources::Merge {
                    input: &input,
                    data,
                    renderer: &r,
                    format,
                    lenient,
                    quiet,
                    out_dir: out_dir.as_deref(),
                    output: output.as_deref(),
                    name: file_name.as_deref(),
                    restart_page_numbers,
                    jobs: jobs.map(usize::from),
                }
                .run();
            }
            let output = output.expect("clap requires --output without --out-dir");
            let name = display_name(&input);
            let text = read_input(&input)?;
            let source = sources::load(&input, text, &name, data.as_deref(), lenient, r.limits())?;
            let options = PngOptions {
                dpi,
                ..PngOptions::default()
            };
            let result = sources::render(&r, &source, format, &options, page);
            let rendered = match result {
                Ok(r) => r,
                Err(RenderError::Invalid(d)) => return Err(Failure(1, report(&name, &d.0))),
                Err(e) => return Err(Failure(1, format!("{name}: {e}"))),
            };
            if !quiet && !rendered.warnings.is_empty() {
                eprintln!("{}", report(&name, &rendered.warnings));
            }
            let to_stdout = output == Path::new("-");
            let mut written = output.display().to_string();
            match rendered.output {
                Output::Pdf(bytes) => write_out(&output, &bytes)?,
                Output::Svg(pages) => {
                    let pages: Vec<Vec<u8>> = pages.into_iter().map(String::into_bytes).collect();
                    written = write_pages(&output, &pages, page, rendered.pages, "svg")?;
                }
                Output::Png(pages) => {
                    written = write_pages(&output, &pages, page, rendered.pages, "png")?;
                }
            }
            if !quiet && !to_stdout {
                eprintln!(
                    "{}: {} page{} written to {}",
                    name,
                    rendered.pages,
                    if rendered.pages == 1 { "" } else { "s" },
                    written
                );
            }
            Ok(())
        }
    }
}

/// Writes SVG or PNG pages: one file when there is one page (or `page` picked one, in
/// which case `pages` holds just that one for PNG), else NAME-1.EXT, NAME-2.EXT, ….
/// Returns what was written, for the summary line.
fn write_pages(
    output: &Path,
    pages: &[Vec<u8>],
    page: Option<usize>,
    count: usize,
    ext: &str,
) -> Result<String, Failure> {
    let n = count;
    if let Some(p) = page {
        // SVG comes with every page, PNG with only the one asked for.
        let one = if ext == "png" {
            pages.first()
        } else {
            pages.get(p.wrapping_sub(1))
        };
        let Some(bytes) = one.filter(|_| p <= n) else {
            return Err(Failure(
                2,
                format!("error: --page {p} but the document has {n} pages"),
            ));
        };
        write_out(output, bytes)?;
        return Ok(output.display().to_string());
    }
    if pages.len() == 1 {
        write_out(output, &pages[0])?;
        return Ok(output.display().to_string());
    }
    if output == Path::new("-") {
        return Err(Failure(
            2,
            format!(
                "error: the document has {n} pages; pick one with --page to write {} to standard output",
                ext.to_ascii_uppercase()
            ),
        ));
    }
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "page".into());
    let dir = output.parent().unwrap_or(Path::new(""));
    for (i, bytes) in pages.iter().enumerate() {
        write_out(&dir.join(format!("{stem}-{}.{ext}", i + 1)), bytes)?;
    }
    let first = dir.join(format!("{stem}-1.{ext}"));
    Ok(format!("{} … {stem}-{n}.{ext}", first.display()))
}

fn write_out(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|_| out.flush())
            .map_err(|e| Failure(1, format!("<stdout>: {e}")));
    }
    // Write beside the target, then rename, so a failed render never leaves half a file
    // over a good one.
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension()
            .map(|e| e.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Failure(1, format!("{}: cannot write: {e}", path.display()))
        })
}
