//! The default corpus of `vigil bench text`: neutral Arabic and English
//! documents of random words, and the edited copies it looks up.
//!
//! Words are drawn with Zipf frequencies from a vocabulary whose head is
//! real common words (so texts share function-word phrases as real ones do)
//! and whose tail is 20,000 made-up words per language (Arabic ones built
//! from three-letter roots and common patterns). The text says nothing: it
//! has the statistics of statements, not their content.

use crate::support::SplitMix;

const ENGLISH_HEAD: &str = "the of and to a in is that for it as was with be by on not he this \
    are or his from at which but have an they you were her she there been one all we their has \
    would when if so no will more can out up about who its them said some time into only two other \
    new people could than first like any after also over most made world year before way many then \
    these how through where back much should well even just our because each those state between \
    both being under never day same another know while last might us great old off come since \
    against go came right used take three himself few house use during without again place around \
    however home small found thought went say part once general high upon school every does got \
    left number course until always away something fact though water less public put think almost \
    hand enough far took head yet government system better set told nothing night end why called \
    find going look asked later knew point next city business give group toward young let room \
    president side social given present several order national possible rather second face among \
    form important often things looked early white case become large big need four within felt \
    along children saw best church ever least power development light thing seemed family interest \
    want members mind country area others done turn although open service certain kind problem \
    began different door thus help sense means whole matter perhaps itself times human law line \
    above name example action company hands local show whether five history gave today either act \
    feet across taken past quite anything seen having experience body word half really week free";

const ARABIC_HEAD: &str = "في من على إلى عن أن ما لا هذا هذه التي الذي الذين كان كانت قال يوم \
    بعد قبل عند كل بين حتى مع أو ثم لم لن قد هو هي هم نحن أنا الناس اليوم العام الدولة المدينة \
    الأرض البلاد الحكومة المجلس الشعب الرئيس الوزير المنطقة العمل الماء الطريق السوق المدرسة \
    الجامعة الكتاب البيت الأطفال الشباب النساء الرجال جميع بعض أكثر أول آخر جديد كبير صغير خلال \
    أمام فوق تحت منذ حول دون غير أيضا لكن إذا كيف لماذا متى أين هناك هنا ذلك تلك الأخرى الماضي \
    المقبل الأسبوع الشهر السنة ساعة دقيقة خبر بيان رسالة مؤتمر اجتماع مشروع خطة قرار تقرير \
    المستشفى الطبيب المطر الشمس القمر البحر النهر الجبل الشجرة الحديقة القرية المزرعة القمح";

const LATIN_CONSONANTS: &[u8] = b"bcdfghjklmnprstvwz";
const LATIN_VOWELS: &[u8] = b"aeiou";
const ARABIC_ROOT_LETTERS: &[char] = &[
    'ب', 'ت', 'ج', 'ح', 'خ', 'د', 'ذ', 'ر', 'ز', 'س', 'ش', 'ص', 'ض', 'ط', 'ظ', 'ع', 'غ', 'ف', 'ق',
    'ك', 'ل', 'م', 'ن', 'ه', 'و', 'ي',
];
/// Fatha, damma, kasra, sukun, shadda, tanwin fath.
const HARAKAT: &[char] = &[
    '\u{064E}', '\u{064F}', '\u{0650}', '\u{0652}', '\u{0651}', '\u{064B}',
];
const TAIL_WORDS: usize = 20_000;

/// One document's words and script.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) words: Vec<String>,
    pub(crate) arabic: bool,
}

impl Document {
    /// The document as text: sentences of twelve words, each ended by a
    /// full stop.
    pub(crate) fn text(&self) -> String {
        render(&self.words)
    }
}

/// Words joined into sentences of twelve.
pub(crate) fn render(words: &[String]) -> String {
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            text.push_str(if i % 12 == 0 { ". " } else { " " });
        }
        text.push_str(word);
    }
    text.push('.');
    text
}

struct Vocabulary {
    words: Vec<String>,
    /// Cumulative Zipf weights, one per word.
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(head: &str, tail: impl Iterator<Item = String>) -> Self {
        let mut words: Vec<String> = head.split_whitespace().map(str::to_owned).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        let wanted = words.len() + TAIL_WORDS;
        for word in tail {
            if words.len() == wanted {
                break;
            }
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn word(&self, rng: &mut SplitMix) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = f64::from(rng.unit()) * total;
        let at = self.cumulative.partition_point(|&c| c < target);
        &self.words[at.min(self.words.len() - 1)]
    }
}

/// Makes documents, unrelated filler and edited copies, deterministically
/// from a seed.
pub(crate) struct Generator {
    english: Vocabulary,
    arabic: Vocabulary,
}

impl Generator {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = SplitMix(seed ^ 0x7e47);
        let latin_tail: Vec<String> = (0..TAIL_WORDS * 2)
            .map(|_| {
                let syllables = 2 + rng.next() % 3;
                (0..syllables)
                    .flat_map(|_| {
                        let c =
                            LATIN_CONSONANTS[(rng.next() % LATIN_CONSONANTS.len() as u64) as usize];
                        let v = LATIN_VOWELS[(rng.next() % LATIN_VOWELS.len() as u64) as usize];
                        [char::from(c), char::from(v)]
                    })
                    .collect()
            })
            .collect();
        let arabic_tail: Vec<String> = (0..TAIL_WORDS * 2)
            .map(|_| {
                let mut root = [' '; 3];
                for letter in &mut root {
                    *letter = ARABIC_ROOT_LETTERS
                        [(rng.next() % ARABIC_ROOT_LETTERS.len() as u64) as usize];
                }
                let [f, a, l] = root;
                match rng.next() % 8 {
                    0 => format!("{f}ا{a}{l}"),
                    1 => format!("م{f}{a}و{l}"),
                    2 => format!("{f}{a}ي{l}"),
                    3 => format!("ت{f}{a}ي{l}"),
                    4 => format!("ال{f}{a}{l}"),
                    5 => format!("است{f}{a}ا{l}"),
                    6 => format!("{f}{a}{l}ة"),
                    _ => format!("و{f}{a}{l}"),
                }
            })
            .collect();
        Self {
            english: Vocabulary::new(ENGLISH_HEAD, latin_tail.into_iter()),
            arabic: Vocabulary::new(ARABIC_HEAD, arabic_tail.into_iter()),
        }
    }

    /// `count` words in one language; a fifth of Arabic words carry
    /// diacritics, as in carefully written statements.
    pub(crate) fn words(&self, rng: &mut SplitMix, count: usize, arabic: bool) -> Vec<String> {
        (0..count)
            .map(|_| {
                if arabic {
                    let word = self.arabic.word(rng).to_owned();
                    if rng.next().is_multiple_of(5) {
                        add_harakat(&word, rng)
                    } else {
                        word
                    }
                } else {
                    self.english.word(rng).to_owned()
                }
            })
            .collect()
    }

    /// A document of 40–400 words (log-uniform), Arabic for even `index`.
    pub(crate) fn document(&self, rng: &mut SplitMix, index: usize) -> Document {
        let length = (40.0 * 10f64.powf(f64::from(rng.unit()))) as usize;
        let arabic = index.is_multiple_of(2);
        Document {
            words: self.words(rng, length, arabic),
            arabic,
        }
    }
}

fn add_harakat(word: &str, rng: &mut SplitMix) -> String {
    word.chars()
        .flat_map(|c| {
            let mark = (c != 'ا' && rng.next().is_multiple_of(2))
                .then(|| HARAKAT[(rng.next() % HARAKAT.len() as u64) as usize]);
            std::iter::once(c).chain(mark)
        })
        .collect()
}

/// The kinds of copy looked up, as named in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VariantKind {
    /// That share of words (in percent) inserted, deleted or replaced.
    Edits(u8),
    /// Arabic diacritics removed, then added to half the words.
    Diacritics,
    /// Letters swapped for look-alikes (Arabic forms; Cyrillic in Latin).
    LookAlikes,
    /// Punctuation added, spacing changed, invisible marks inserted.
    Punctuation,
    /// The first half of the words only.
    FirstHalf,
    /// The second half of the words only.
    SecondHalf,
    /// Pasted into unrelated text three times its length.
    Embedded,
}

impl VariantKind {
    pub(crate) const ALL: [VariantKind; 10] = [
        Self::Edits(5),
        Self::Edits(10),
        Self::Edits(20),
        Self::Edits(40),
        Self::Diacritics,
        Self::LookAlikes,
        Self::Punctuation,
        Self::FirstHalf,
        Self::SecondHalf,
        Self::Embedded,
    ];

    pub(crate) fn name(self) -> String {
        match self {
            Self::Edits(p) => format!("edits_{p}pct"),
            Self::Diacritics => "diacritics".into(),
            Self::LookAlikes => "look_alikes".into(),
            Self::Punctuation => "punctuation_spacing".into(),
            Self::FirstHalf => "first_half".into(),
            Self::SecondHalf => "second_half".into(),
            Self::Embedded => "embedded_3x".into(),
        }
    }
}

impl Generator {
    /// The `kind` copy of `doc`, as text; `None` where the kind does not
    /// apply (diacritics on a text without Arabic).
    pub(crate) fn variant(
        &self,
        doc: &Document,
        kind: VariantKind,
        rng: &mut SplitMix,
    ) -> Option<String> {
        let words = &doc.words;
        Some(match kind {
            VariantKind::Edits(percent) => {
                let mut edited = words.clone();
                let edits = (words.len() * usize::from(percent) + 50) / 100;
                for _ in 0..edits {
                    let at = (rng.next() % (edited.len() as u64 + 1)) as usize;
                    let new_word = self
                        .words(&mut SplitMix(rng.next()), 1, doc.arabic)
                        .remove(0);
                    match rng.next() % 3 {
                        0 => edited.insert(at, new_word),
                        1 if at < edited.len() && edited.len() > 1 => {
                            edited.remove(at);
                        }
                        _ if at < edited.len() => edited[at] = new_word,
                        _ => edited.push(new_word),
                    }
                }
                render(&edited)
            }
            VariantKind::Diacritics => {
                if !doc.arabic {
                    return None;
                }
                let edited: Vec<String> = words
                    .iter()
                    .map(|w| {
                        let bare: String = w.chars().filter(|c| !HARAKAT.contains(c)).collect();
                        if rng.next().is_multiple_of(2) {
                            add_harakat(&bare, rng)
                        } else {
                            bare
                        }
                    })
                    .collect();
                render(&edited)
            }
            VariantKind::LookAlikes => {
                let edited: Vec<String> = words
                    .iter()
                    .map(|w| {
                        if rng.next().is_multiple_of(2) {
                            look_alike(w, rng)
                        } else {
                            w.clone()
                        }
                    })
                    .collect();
                render(&edited)
            }
            VariantKind::Punctuation => punctuate(words, rng),
            VariantKind::FirstHalf => render(&words[..words.len() / 2]),
            VariantKind::SecondHalf => render(&words[words.len() / 2..]),
            VariantKind::Embedded => {
                let mut filler = self.words(rng, words.len() * 3, doc.arabic);
                let at = (rng.next() % (filler.len() as u64 + 1)) as usize;
                let tail = filler.split_off(at);
                format!("{} {} {}", render(&filler), doc.text(), render(&tail))
            }
        })
    }
}

fn look_alike(word: &str, rng: &mut SplitMix) -> String {
    let last = word.chars().count().saturating_sub(1);
    word.chars()
        .enumerate()
        .map(|(i, c)| {
            // The first letter stays, so a Latin word keeps a Latin letter.
            let swap = i > 0 && rng.next().is_multiple_of(2);
            match c {
                'ي' if i == last && swap => 'ى',
                'ي' if swap => 'ی',
                'ه' if i == last && swap => 'ة',
                'ك' if swap => 'ک',
                'ا' if i == 0 => ['أ', 'إ', 'آ', 'ا'][(rng.next() % 4) as usize],
                'a' if swap => 'а',
                'e' if swap => 'е',
                'o' if swap => 'о',
                'p' if swap => 'р',
                'c' if swap => 'с',
                'x' if swap => 'х',
                'y' if swap => 'у',
                'i' if swap => 'і',
                other => other,
            }
        })
        .collect()
}

fn punctuate(words: &[String], rng: &mut SplitMix) -> String {
    const MARKS: &[&str] = &[
        ",", ";", ":", "!", "?", "…", "«", "»", "—", "(", ")", "\"", "،", "؛", "؟", "-",
    ];
    const SPACES: &[&str] = &[" ", "  ", "\t", "\n", " \u{200B}", "\u{200F} ", " \u{200C}"];
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            if rng.next().is_multiple_of(4) {
                text.push_str(MARKS[(rng.next() % MARKS.len() as u64) as usize]);
                // Sometimes no space after the mark: "word,word".
                if !rng.next().is_multiple_of(3) {
                    text.push_str(SPACES[(rng.next() % SPACES.len() as u64) as usize]);
                }
            } else {
                text.push_str(SPACES[(rng.next() % SPACES.len() as u64) as usize]);
            }
        }
        text.push_str(word);
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn documents_are_deterministic_and_mixed() {
        let generator = Generator::new(7);
        let a = generator.document(&mut SplitMix(1), 0);
        let b = generator.document(&mut SplitMix(1), 0);
        assert_eq!(a.words, b.words);
        assert!(a.arabic && (40..=400).contains(&a.words.len()));
        assert!(!generator.document(&mut SplitMix(1), 1).arabic);
    }

    #[test]
    fn variants_keep_their_promise() {
        let generator = Generator::new(7);
        let mut rng = SplitMix(3);
        let doc = Document {
            words: generator.words(&mut rng, 100, true),
            arabic: true,
        };
        let normal = vigil_signal::text::normalize(&doc.text());
        for kind in [
            VariantKind::Diacritics,
            VariantKind::LookAlikes,
            VariantKind::Punctuation,
        ] {
            let variant = generator.variant(&doc, kind, &mut rng).unwrap();
            assert_ne!(variant, doc.text(), "{kind:?}");
            assert_eq!(vigil_signal::text::normalize(&variant), normal, "{kind:?}");
        }
        let embedded = generator
            .variant(&doc, VariantKind::Embedded, &mut rng)
            .unwrap();
        assert!(embedded.contains(&doc.text()));
        let english = Document {
            words: generator.words(&mut rng, 100, false),
            arabic: false,
        };
        assert!(
            generator
                .variant(&english, VariantKind::Diacritics, &mut rng)
                .is_none()
        );
    }
}
