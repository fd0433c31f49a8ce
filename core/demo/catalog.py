"""The demo studio's catalog: the shipped example catalog file, which `demo-data` offers."""

from __future__ import annotations

from core.services.catalog import CatalogSpec
from core.services.catalog_import import EXAMPLE_CATALOG, parse_catalog

# One catalog definition: the documented example file is the demo studio's catalog. It
# sets its own currency and default time zone, so the ones given here are never used.
DEMO_CATALOG: CatalogSpec = parse_catalog(
    EXAMPLE_CATALOG.read_text(encoding="utf-8"),
    currency=None,
    timezone="Europe/London",
    source=EXAMPLE_CATALOG.name,
)

# Sample answers per question of each demo questionnaire, for answered demo responses.
DEMO_ANSWERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "health-screening": (
        (
            "None",
            "Old knee injury, fine now",
            "Lower back pain after long days",
            "Sprained ankle in May",
        ),
        ("No", "No", "Yes, gave birth in January"),
        ("No", "No", "Mild high blood pressure, controlled"),
        ("No", "Beta blockers", "Inhaler for asthma"),
        ("Partner, +44 7700 900123", "Mum, +44 7700 900456", "Sam (flatmate), +44 7700 900789"),
    ),
    "liability-waiver": (
        ("Yes",),
        ("Yes",),
        ("Yes", "No", "Only group shots, please"),
    ),
    "class-feedback": (
        ("Morning Yoga", "Sunset Pilates", "NYC Bootcamp", "Café Barre"),
        ("5", "4", "5", "3"),
        ("Yes", "A bit fast", "Could be more challenging"),
        ("Nothing, loved it", "More music", "Longer cool-down", "Earlier start time"),
    ),
    "goals": (
        ("Stress relief", "Getting stronger", "Rehab after injury", "Meeting people"),
        ("Rarely", "Once a week", "Two or three times a week", "Daily"),
        ("Yoga", "Pilates", "HIIT and bootcamp", "Breathwork"),
        ("None", "A few classes years ago", "Practised for five years"),
        ("Touch my toes", "Run a 10k", "Sleep better", "Hold a plank for two minutes"),
        ("A friend", "Instagram", "Walked past the studio", "Google"),
    ),
}
