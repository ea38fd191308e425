#!/usr/bin/env python3
"""Writes crates/vigil-media/tests/fixtures/arabic-shaped.pdf: two neutral
sentences, one Arabic with Latin words and digits inside, drawn the way
many PDF producers draw Arabic — shaped presentation forms in visual
(left-to-right) order — with DejaVu Sans embedded.

    python3 -m venv /tmp/pdfenv
    /tmp/pdfenv/bin/pip install reportlab arabic-reshaper python-bidi
    /tmp/pdfenv/bin/python scripts/make-arabic-pdf-fixture.py

The sentences are also in crates/vigil-media/tests/pdf.rs, which checks that
the text read back normalises to theirs.
"""
import pathlib

import arabic_reshaper
from bidi.algorithm import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

LINES = [
    "أعلنت الإدارة المحلية يوم الثلاثاء أن محطة المياه الجديدة ستفتح في الربيع",
    "وقال المهندس إن Water Plant رقم 12 سيخدم المدينة",
]

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "crates/vigil-media/tests/fixtures/arabic-shaped.pdf"
pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
page = canvas.Canvas(str(out), invariant=1)
page.setFont("DejaVu", 14)
for i, line in enumerate(LINES):
    page.drawRightString(560, 760 - 24 * i, get_display(arabic_reshaper.reshape(line)))
page.save()
print(out)
