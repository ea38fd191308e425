//! Untrusted content streams through the PDF budget: the bytes become the
//! one content stream shared by up to eight pages of a well-formed PDF, read
//! under small limits. The scanner must never panic, and every overrun must
//! be a `pdf_limit`, never more text than the budget.
//!
//! Run with `cargo fuzz run pdf_budget --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_media::{Error, Limits, PdfLimits, read_pdf};
use vigil_signal::PdqMode;

/// A PDF of `pages` pages drawing `content` (stored unfiltered) with the
/// font `F1`.
fn pdf(pages: usize, content: &[u8]) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 5 + i)).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend(content);
    stream.extend(b"\nendstream");
    objects.push(stream);
    for _ in 0..pages {
        objects.push(
            b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
                .to_vec(),
        );
    }
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(object);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pages, content)) = data.split_first() else {
        return;
    };
    let limits = PdfLimits {
        max_operators: 2_000,
        max_text_bytes: 4_096,
        max_inflated_bytes: 64 << 10,
        max_page_streams: 16,
        ..PdfLimits::default()
    };
    let document = pdf(usize::from(pages % 8) + 1, content);
    match read_pdf(&document, &limits, &Limits::default(), PdqMode::default()) {
        Ok(read) => {
            let text: usize = read.pages.iter().map(String::len).sum();
            // Reading order may add no bytes; only the budget bounds them.
            assert!(text as u64 <= limits.max_text_bytes, "{text} bytes of text");
        }
        Err(Error::PdfLimit(_) | Error::Pdf(_)) => {}
        Err(other) => panic!("unexpected error: {other}"),
    }
});
