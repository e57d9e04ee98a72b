"""Regenerate the demo library's scanned délibération (dev-only: needs Pillow, in the test extras).

The page is text rendered to a 200 dpi image and saved as an image-only PDF, as a scanner
writes it: no text layer, so Veille reads it by character recognition. Committed; this script
documents how it was made.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent / "library"
NAME = "deliberation-conseil-municipal-lamentin-2019-scan.pdf"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")

LINES = [
    ("VILLE DU LAMENTIN (démonstration)", 40),
    ("Extrait du registre des délibérations du conseil municipal", 34),
    ("Séance du 28 mars 2019", 34),
    ("", 30),
    ("Objet : adhésion au contrat de ville de la CACEM et", 34),
    ("programme d'actions pour le quartier prioritaire du centre-ville", 34),
    ("", 30),
    ("Le conseil municipal,", 32),
    ("Vu la loi n° 2014-173 du 21 février 2014 de programmation pour la", 32),
    ("ville et la cohésion urbaine ;", 32),
    ("Vu le contrat de ville de la communauté d'agglomération du Centre", 32),
    ("de la Martinique ;", 32),
    ("Considérant la nécessité de soutenir les associations de proximité,", 32),
    ("les jardins familiaux et l'insertion des jeunes du quartier ;", 32),
    ("", 30),
    ("Après en avoir délibéré, à l'unanimité :", 32),
    ("Article 1 : approuve l'adhésion de la commune au contrat de ville ;", 32),
    ("Article 2 : inscrit au budget les crédits du programme d'actions ;", 32),
    ("Article 3 : autorise le maire à signer les conventions afférentes.", 32),
    ("", 30),
    ("Fait et délibéré les jour, mois et an susdits.", 32),
    ("Pour extrait conforme, le maire.", 32),
]


def main() -> None:
    font_file = str(FONT) if FONT.is_file() else None
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    y = 200
    for text, size in LINES:
        font = ImageFont.truetype(font_file, size) if font_file else ImageFont.load_default(size=size)
        draw.text((170, y), text, fill=0, font=font)
        y += int(size * 1.9)
    # a scanner's bilevel page, compressed as scanners do
    image.convert("1").save(HERE / NAME, format="PDF", resolution=200)


if __name__ == "__main__":
    main()
