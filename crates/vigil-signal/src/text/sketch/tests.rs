use std::collections::HashSet;

use proptest::prelude::*;

use super::*;

const STATEMENT: &str = "the regional office confirmed on tuesday that the new water plant \
    will open in the spring after two years of building work and a long dispute \
    over the cost of the pipes that carry water from the river to the town";

/// The shingles of `words`, by the definition and without hashing.
fn oracle_shingles(words: &[String]) -> HashSet<String> {
    let width = SHINGLE_WORDS.min(words.len());
    if width == 0 {
        return HashSet::new();
    }
    words.windows(width).map(|w| w.join(" ")).collect()
}

#[test]
fn a_verbatim_copy_is_fully_contained() {
    let banked = TextSketch::of_text(STATEMENT, BANK_SAMPLE);
    let query = TextSketch::of_text(STATEMENT, QUERY_SAMPLE);
    let found = banked.containment_in(&query).unwrap();
    assert_eq!(found.containment, 1.0);
    assert_eq!(found.similarity, 1.0);
    assert_eq!(found.sampled, banked.shingles());
    assert_eq!(found.found, banked.shingles());
}

#[test]
fn a_statement_pasted_into_a_longer_post_is_contained() {
    let filler = "people across the county gathered for the harvest fair where farmers \
        showed their best cattle and children ran races on the green until dark";
    let post = format!("{filler} {filler} {STATEMENT} {filler}");
    let banked = TextSketch::of_text(STATEMENT, BANK_SAMPLE);
    let found = banked
        .containment_in(&TextSketch::of_text(&post, QUERY_SAMPLE))
        .unwrap();
    assert_eq!(found.containment, 1.0);
    assert!(found.similarity < 0.7, "{found:?}");
}

#[test]
fn unrelated_text_shares_nothing() {
    let other = "a recipe for bread needs flour water salt and yeast kneaded for ten \
        minutes then left to rise in a warm place before baking in a hot oven";
    let banked = TextSketch::of_text(STATEMENT, BANK_SAMPLE);
    let found = banked
        .containment_in(&TextSketch::of_text(other, QUERY_SAMPLE))
        .unwrap();
    assert_eq!(found.containment, 0.0);
}

#[test]
fn diacritics_punctuation_and_look_alikes_do_not_change_the_sketch() {
    let plain = "اعلنت المجموعة المسؤولية عن الهجوم في المدينة يوم الثلاثاء";
    let edited = "أعلنَت المجموعةُ، المسؤوليّة عن الهجـــوم في المدينة (يوم الثلاثاء)!";
    assert_eq!(
        TextSketch::of_text(plain, BANK_SAMPLE),
        TextSketch::of_text(edited, BANK_SAMPLE)
    );
}

#[test]
fn short_texts_are_one_shingle() {
    assert!(TextSketch::of_text("", BANK_SAMPLE).is_empty());
    assert!(TextSketch::of_text(" ... ", BANK_SAMPLE).is_empty());
    let one = TextSketch::of_text("word", BANK_SAMPLE);
    assert_eq!(one.shingles(), 1);
    let two = TextSketch::of_text("two words", BANK_SAMPLE);
    assert_eq!(two.shingles(), 1);
    assert_ne!(one, two);
    assert_eq!(
        TextSketch::of_text("three words here", BANK_SAMPLE).shingles(),
        1
    );
    assert_eq!(
        TextSketch::of_text("now four words here", BANK_SAMPLE).shingles(),
        2
    );
}

#[test]
fn an_empty_sketch_gives_no_evidence() {
    let empty = TextSketch::of_text("", BANK_SAMPLE);
    let full = TextSketch::of_text(STATEMENT, QUERY_SAMPLE);
    assert_eq!(empty.containment_in(&full), None);
    // An empty query is evidence: none of the banked text is in it.
    assert_eq!(full.containment_in(&empty).unwrap().containment, 0.0);
}

#[test]
fn the_text_form_round_trips_and_is_compact() {
    let sketch = TextSketch::of_text(STATEMENT, BANK_SAMPLE);
    let text = sketch.to_string();
    assert!(text.starts_with("v1.") && text.len() <= 349, "{text}");
    assert_eq!(text.parse::<TextSketch>().unwrap(), sketch);
    // Surrounding white space is tolerated, as for the other signal types.
    assert_eq!(format!(" {text}\n").parse::<TextSketch>().unwrap(), sketch);
}

#[test]
fn malformed_text_forms_are_refused_with_a_reason() {
    let value = |v: u32| URL_SAFE_NO_PAD.encode(v.to_be_bytes());
    let two = |a: u32, b: u32| URL_SAFE_NO_PAD.encode([a.to_be_bytes(), b.to_be_bytes()].concat());
    for (input, reason) in [
        ("", "expected the form"),
        ("v2.3.AAAAAQ", "expected the form"),
        ("v1.x.AAAAAQ", "not a number"),
        ("v1.3.", "one or more"),
        ("v1.3.AAAA", "one or more"),
        ("v1.3.!!!!", "not base64url"),
        (&format!("v1.1.{}", two(1, 2)), "more values"),
        (&format!("v1.5.{}", two(2, 1)), "ascending"),
        (&format!("v1.5.{}", two(2, 2)), "ascending"),
        (&format!("v1.-1.{}", value(1)), "not a number"),
    ] {
        let err = input.parse::<TextSketch>().unwrap_err().to_string();
        assert!(err.contains(reason), "{input:?}: {err}");
    }
}

proptest! {
    /// With complete samples the estimate is the exact containment, computed
    /// here from shingle strings without hashing.
    #[test]
    fn complete_sketches_give_the_exact_containment(
        banked in prop::collection::vec(0usize..40, 0..60),
        query in prop::collection::vec(0usize..40, 0..60),
    ) {
        let word = |i: &usize| format!("w{i}");
        let banked: Vec<String> = banked.iter().map(word).collect();
        let query: Vec<String> = query.iter().map(word).collect();
        let b = TextSketch::of_text(&banked.join(" "), QUERY_SAMPLE);
        let q = TextSketch::of_text(&query.join(" "), QUERY_SAMPLE);
        let (ob, oq) = (oracle_shingles(&banked), oracle_shingles(&query));
        prop_assert_eq!(b.shingles() as usize, ob.len());
        match b.containment_in(&q) {
            None => prop_assert!(ob.is_empty() || oq.is_empty() && b.sample_limit() < u32::MAX),
            Some(found) => {
                let shared = ob.intersection(&oq).count();
                prop_assert_eq!(found.found as usize, shared);
                prop_assert_eq!(found.containment, shared as f64 / ob.len() as f64);
                let union = ob.union(&oq).count();
                prop_assert!((found.similarity - shared as f64 / union as f64).abs() < 1e-9);
            }
        }
    }

    /// A bottom-k sample is the k smallest values of the full sketch, and
    /// survives its text form.
    #[test]
    fn samples_are_prefixes_and_round_trip(
        words in prop::collection::vec("[a-z]{1,6}", 1..200),
        k in 1usize..80,
    ) {
        let text = words.join(" ");
        let full = TextSketch::of_text(&text, QUERY_SAMPLE);
        let small = TextSketch::of_text(&text, k);
        prop_assert_eq!(&full.truncated(k), &small);
        prop_assert_eq!(small.to_string().parse::<TextSketch>().unwrap(), small.clone());
        prop_assert!(small.sample().len() <= k);
    }

    /// Estimates stay in range and never claim more than was sampled, for any
    /// pair of sample sizes.
    #[test]
    fn estimates_are_bounded(
        a in prop::collection::vec(0usize..30, 1..120),
        b in prop::collection::vec(0usize..30, 1..120),
        ka in 1usize..50,
        kb in 1usize..50,
    ) {
        let text = |v: &[usize]| v.iter().map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        let sa = TextSketch::of_text(&text(&a), ka);
        let sb = TextSketch::of_text(&text(&b), kb);
        if let Some(found) = sa.containment_in(&sb) {
            prop_assert!(found.found <= found.sampled);
            prop_assert!(found.sampled as usize <= sa.sample().len());
            prop_assert!((0.0..=1.0).contains(&found.containment));
            prop_assert!((0.0..=1.0).contains(&found.similarity));
        }
    }

    /// Parsing never panics on arbitrary input.
    #[test]
    fn parsing_arbitrary_text_never_panics(input in ".{0,200}") {
        let _ = input.parse::<TextSketch>();
    }
}
