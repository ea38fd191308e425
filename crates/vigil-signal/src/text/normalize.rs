//! Text normalisation: [`normalize`] maps the edits that change bytes but
//! not meaning to one form, so a fingerprint of the result survives them:
//!
//! 1. Unicode NFKC: compatibility forms become their base letters (Arabic
//!    presentation forms, full-width Latin, ligatures such as ﷲ).
//! 2. Lower case (Unicode's lowercase mapping, which for the scripts here is
//!    case folding).
//! 3. Arabic script: tashkeel (harakat, tanwin, shadda, sukun, superscript
//!    alef, U+064B–U+065F and U+0670), Quranic annotation marks (U+0610–
//!    U+061A, U+06D6–U+06DC, U+06DF–U+06E8, U+06EA–U+06ED) and tatweel
//!    (U+0640) are removed; alef forms آ أ إ ٱ become ا; ى → ي; ة → ه; ؤ → و;
//!    ئ → ي; the Persian/Urdu look-alikes ک → ك and ی → ي.
//! 4. Arabic-Indic (٠–٩) and Persian (۰–۹) digits become 0–9.
//! 5. Zero-width and bidirectional control characters (ZWSP, ZWNJ, ZWJ,
//!    LRM, RLM, ALM, the embeddings, overrides and isolates, BOM) are
//!    removed: they are invisible and often inserted to dodge filters.
//! 6. Punctuation and symbols become spaces (so `word,word` is two words),
//!    and runs of white space become one space, trimmed.
//! 7. In a word that has Latin letters, Cyrillic and Greek letters that look
//!    like Latin ones (`а е о р с у х і ј ѕ`, `α ο ρ τ υ χ`, and the lower
//!    case of look-alike capitals such as `М Н Т В К`) become those Latin
//!    letters: `stаtеmеnt` with Cyrillic а and е is `statement`. Words wholly
//!    in Cyrillic or Greek are left alone, so Russian and Greek text is not
//!    damaged.
//!
//! Letters of every script and digits are kept; nothing is transliterated.

use unicode_normalization::UnicodeNormalization;

/// The normalised form of `text`: words of letters and digits separated by
/// single spaces (see [`crate::text`] for the rules).
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkc().flat_map(char::to_lowercase) {
        let Some(c) = normalize_char(c) else {
            continue;
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    if out.chars().any(|c| latin_look_alike(c).is_some()) {
        out = fold_look_alikes_in_latin_words(&out);
    }
    out
}

/// Step 7 over normalised words.
fn fold_look_alikes_in_latin_words(normalized: &str) -> String {
    let words: Vec<String> = normalized
        .split(' ')
        .map(|word| {
            if word.chars().any(|c| c.is_ascii_lowercase()) {
                word.chars()
                    .map(|c| latin_look_alike(c).unwrap_or(c))
                    .collect()
            } else {
                word.to_owned()
            }
        })
        .collect();
    words.join(" ")
}

/// The Latin letter a lower-case Cyrillic or Greek letter is mistaken for.
fn latin_look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'н' | 'һ' | 'η' => 'h',
        'і' | 'ι' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' | 'μ' => 'm',
        'ν' => 'v',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'у' | 'υ' => 'y',
        'ԝ' => 'w',
        'х' | 'χ' => 'x',
        'ζ' => 'z',
        _ => return None,
    })
}

/// One character after the per-character rules of steps 3–5, or `None` to
/// drop it.
fn normalize_char(c: char) -> Option<char> {
    match c {
        // Tashkeel and superscript alef.
        '\u{064B}'..='\u{065F}' | '\u{0670}' => None,
        // Quranic annotation marks.
        '\u{0610}'..='\u{061A}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}' => None,
        // Tatweel.
        '\u{0640}' => None,
        // Zero-width and bidirectional controls, BOM.
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061C}'
        | '\u{FEFF}'
        | '\u{2060}' => None,
        // Alef forms.
        'آ' | 'أ' | 'إ' | 'ٱ' => Some('ا'),
        'ى' | 'ئ' | 'ی' => Some('ي'),
        'ة' => Some('ه'),
        'ؤ' => Some('و'),
        'ک' => Some('ك'),
        '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
        '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn nfkc_and_case() {
        assert_eq!(normalize("ＦＵＬＬ Width"), "full width");
        assert_eq!(normalize("ﬁnal ÉTÉ"), "final été");
        // Presentation forms become base letters.
        assert_eq!(normalize("\u{FEB3}\u{FEFC}\u{FEE1}"), normalize("سلام"));
    }

    #[test]
    fn tashkeel_and_quranic_marks_are_removed() {
        assert_eq!(normalize("بِسْمِ"), "بسم");
        assert_eq!(normalize("كِتَابٌ"), "كتاب");
        assert_eq!(normalize("شَدَّة"), "شده");
        assert_eq!(normalize("رَحْمٰن"), "رحمن");
        assert_eq!(normalize("ذٰلِكَ\u{06DA}"), "ذلك");
        assert_eq!(normalize("صلى\u{0610}"), "صلي");
    }

    #[test]
    fn tatweel_is_removed() {
        assert_eq!(normalize("الســـــلام"), "السلام");
    }

    #[test]
    fn alef_forms_are_unified() {
        assert_eq!(normalize("آمن أحمد إسلام ٱلله"), "امن احمد اسلام الله");
    }

    #[test]
    fn ya_ta_marbuta_waw_hamza_are_unified() {
        assert_eq!(normalize("على"), "علي");
        assert_eq!(normalize("مدرسة"), "مدرسه");
        assert_eq!(normalize("مؤمن"), "مومن");
        assert_eq!(normalize("رئيس"), "رييس");
    }

    #[test]
    fn persian_and_urdu_look_alikes_are_unified() {
        assert_eq!(normalize("کتاب"), normalize("كتاب"));
        assert_eq!(normalize("علی"), normalize("على"));
    }

    #[test]
    fn arabic_indic_and_persian_digits() {
        assert_eq!(normalize("٢٠١٤"), "2014");
        assert_eq!(normalize("۱۳۹۳"), "1393");
    }

    #[test]
    fn zero_width_and_direction_marks_are_removed() {
        assert_eq!(normalize("ex\u{200B}am\u{200C}ple"), "example");
        assert_eq!(
            normalize("\u{202B}بيان\u{202C} \u{200F}رقم\u{200E} 5"),
            "بيان رقم 5"
        );
        assert_eq!(normalize("\u{2067}نص\u{2069}\u{FEFF}"), "نص");
    }

    #[test]
    fn punctuation_and_spacing_are_folded() {
        assert_eq!(
            normalize("  Hello,world!!  How   are\tyou?\n"),
            "hello world how are you"
        );
        assert_eq!(normalize("بيان، رقم؛ ٣؟"), "بيان رقم 3");
        assert_eq!(normalize("«quoted» — dash…"), "quoted dash");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("!!! ..."), "");
    }

    #[test]
    fn cyrillic_and_greek_look_alikes_in_latin_words() {
        // Cyrillic а, е, о, с and Greek ο inside Latin words.
        assert_eq!(
            normalize("stаtеmеnt frοm thе grоup"),
            "statement from the group"
        );
        // Capitals fold through their lower case: Cyrillic М, Т, Н.
        assert_eq!(normalize("ТНЕ МАР"), normalize("тне мар"));
        assert_eq!(normalize("Мap of Тhe city"), "map of the city");
        // Whole Cyrillic and Greek words are left alone.
        assert_eq!(normalize("Москва и Αθήνα"), "москва и αθήνα");
    }

    #[test]
    fn mixed_arabic_and_latin_text() {
        assert_eq!(
            normalize("البيانُ No. ١٢ — Statement \u{200F}(Example Group)"),
            "البيان no 12 statement example group"
        );
    }

    #[test]
    fn variants_of_one_sentence_agree() {
        let plain = normalize("اعلنت المجموعة المسؤوليه عن الهجوم");
        for variant in [
            "أعلنَت المجموعةُ المسؤولية عن الهجوم.",
            "اعلنـــت  المجموعة\u{200C} المسؤولية، عن الهجوم",
            "\u{202B}أعلنت المجموعة المسؤولية عن الهجوم\u{202C}",
        ] {
            assert_eq!(normalize(variant), plain, "{variant}");
        }
    }
}
