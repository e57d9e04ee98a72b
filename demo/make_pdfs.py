"""Regenerate the demo library's PDF files (dev-only: needs `pip install reportlab`).

The PDFs are committed; this script documents how they were made and lets anyone remake them.
"""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

HERE = Path(__file__).resolve().parent / "library"

DOCUMENTS = {
    "etude-emploi-jeunes-qpv-martinique.pdf": (
        "L'emploi des jeunes dans les quartiers prioritaires de Martinique",
        "Observatoire régional (démonstration)",
        [
            ["Synthèse",
             "Dans les quartiers prioritaires de la politique de la ville (QPV) de Martinique, "
             "près d'un jeune de 16 à 25 ans sur deux n'est ni en emploi, ni en études, ni en "
             "formation. L'écart avec le reste du territoire reste marqué malgré la baisse du "
             "chômage observée depuis 2020.",
             "L'étude s'appuie sur les données de France Travail, des missions locales et sur "
             "quarante entretiens menés à Fort-de-France, au Lamentin, à Sainte-Marie et au Robert."],
            ["Les freins à l'emploi",
             "La mobilité est le premier frein cité : les quartiers sont mal desservis par les "
             "transports en commun et peu de jeunes disposent du permis de conduire. Viennent "
             "ensuite le manque de qualification, la discrimination à l'adresse et la garde des "
             "jeunes enfants pour les jeunes mères.",
             "Les dispositifs d'insertion (contrat d'engagement jeune, cités de l'emploi, "
             "parcours emploi compétences) sont connus mais jugés complexes par les familles."],
            ["Recommandations",
             "Renforcer l'aller-vers dans les quartiers, soutenir les auto-écoles sociales, "
             "développer les clauses d'insertion dans les chantiers de renouvellement urbain et "
             "associer les employeurs locaux aux actions du contrat de ville."],
        ],
    ),
    "guide-npnru-relogement.pdf": (
        "Guide du relogement dans les projets de renouvellement urbain",
        "Centre de ressources politique de la ville de Martinique",
        [
            ["Pourquoi un guide du relogement ?",
             "Le nouveau programme national de renouvellement urbain (NPNRU) conduit à démolir "
             "ou à restructurer des logements sociaux. Chaque ménage concerné doit se voir proposer "
             "un relogement adapté à ses besoins et à ses ressources.",
             "Ce guide rassemble les règles, les étapes et les bonnes pratiques observées à "
             "Fort-de-France et dans les autres quartiers en rénovation urbaine."],
            ["Les étapes",
             "Enquête sociale auprès de chaque ménage, charte partenariale de relogement signée "
             "par l'État, l'intercommunalité, la commune et les bailleurs, commission de suivi, "
             "propositions de logement, accompagnement du déménagement et suivi après relogement.",
             "Le conseil citoyen est associé à la rédaction de la charte et au suivi des "
             "relogements."],
        ],
    ),
}


def build(path: Path, title: str, author: str, sections: list[list[str]]) -> None:
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"]), Spacer(1, 12)]
    for i, (heading, *paragraphs) in enumerate(sections):
        if i:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading2"]))
        story.extend(Paragraph(p, styles["BodyText"]) for p in paragraphs)
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title, author=author,
                            invariant=True)  # invariant: same bytes on every run
    doc.build(story)


if __name__ == "__main__":
    for name, (title, author, sections) in DOCUMENTS.items():
        build(HERE / name, title, author, sections)
        print("wrote", HERE / name)
