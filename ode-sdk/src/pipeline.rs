//! PDF on two threads: layout hands each finished page to a writer thread, which
//! turns it into PDF (content streams, compression) while the next page is laid out.
//!
//! `ode_core::pdf_document` does the same on one thread (the engine has no threads);
//! the output is byte for byte the same, since the writer sees the same pages, images
//! and anchors in the same order.

use std::collections::BTreeMap;
use std::sync::mpsc;

use ode_core::export::{PdfOptions, PdfWriter};
use ode_core::frame::{ImageData, Location, OutlineEntry, Page, Structure};
use ode_core::layout::LayoutOptions;
use ode_core::model::{Document, Metadata};
use ode_core::{Diagnostics, PdfOutput, Resources, Warned};

/// What the layout thread sends.
enum Msg {
    Page {
        page: Page,
        /// Images loaded since the previous page.
        new_images: Vec<ImageData>,
        /// The anchors, when they changed since the previous page.
        anchors: Option<BTreeMap<String, Location>>,
    },
    Finish {
        outline: Vec<OutlineEntry>,
        metadata: Box<Metadata>,
        structure: Box<Structure>,
    },
}

/// Pages a writer may lag behind layout (bounds memory).
const QUEUE: usize = 4;

/// Lays out and writes a document as PDF, the writing on a second thread.
///
/// # Errors
/// As `ode_core::pdf_document`.
pub(crate) fn pdf_document(
    doc: &Document,
    res: &(dyn Resources + Sync),
    layout_options: &LayoutOptions,
    pdf_options: &PdfOptions,
) -> Result<Warned<PdfOutput>, Diagnostics> {
    let (layout_options, pdf_options) = ode_core::pdf_settings(doc, layout_options, pdf_options)?;
    let fonts = res.fonts();
    let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE);
    // Written pages go back to be dropped where they were allocated: freeing them on
    // the writer's thread made the allocator hand memory back and forth between its
    // per-thread arenas (a third of W3's time went to the kernel).
    let (done_tx, done_rx) = mpsc::channel::<Page>();
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> Result<Vec<u8>, Diagnostics> {
            let mut w = PdfWriter::new(fonts, &pdf_options);
            let mut images: Vec<ImageData> = Vec::new();
            let mut anchors = BTreeMap::new();
            let mut failed = None;
            for msg in rx {
                match msg {
                    Msg::Page {
                        page,
                        new_images,
                        anchors: a,
                    } => {
                        images.extend(new_images);
                        if let Some(a) = a {
                            anchors = a;
                        }
                        if failed.is_none()
                            && let Err(e) = w.page(&page, &images, &anchors)
                        {
                            failed = Some(e);
                        }
                        let _ = done_tx.send(page);
                    }
                    Msg::Finish {
                        outline,
                        metadata,
                        structure,
                    } => {
                        if let Some(e) = failed {
                            return Err(e);
                        }
                        return w.finish_with(&outline, &metadata, &structure);
                    }
                }
            }
            // Layout failed: the sender is gone without a Finish.
            Err(failed.unwrap_or_default())
        });
        let mut sent_images = 0;
        let mut sent_anchors = usize::MAX;
        let laid_out = ode_core::layout::layout_pages(
            doc,
            res,
            &layout_options,
            &mut |page, images, anchors| {
                while let Ok(done) = done_rx.try_recv() {
                    drop(done);
                }
                let new_images = images[sent_images.min(images.len())..].to_vec();
                sent_images = images.len();
                let anchors = (anchors.len() != sent_anchors).then(|| {
                    sent_anchors = anchors.len();
                    anchors.clone()
                });
                // A closed channel means the writer stopped; its error is reported below.
                let _ = tx.send(Msg::Page {
                    page,
                    new_images,
                    anchors,
                });
            },
        );
        let laid_out = match laid_out {
            Ok(w) => w,
            Err(e) => {
                drop(tx);
                let _ = writer.join();
                return Err(e);
            }
        };
        let Warned {
            output: summary,
            warnings,
        } = laid_out;
        let _ = tx.send(Msg::Finish {
            outline: summary.outline,
            metadata: Box::new(doc.metadata.clone()),
            structure: Box::new(summary.structure),
        });
        drop(tx);
        let bytes = match writer.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        PdfOutput::with_warnings(bytes, summary.page_count, warnings)
    })
}
