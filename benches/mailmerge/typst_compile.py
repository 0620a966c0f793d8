"""Compiles letters.typ with Typst (the typst package from PyPI) and writes the PDF."""
import sys
import typst

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/typst-letters.pdf"
typst.compile("letters.typ", output=out, font_paths=["/usr/share/fonts/truetype/dejavu"])
