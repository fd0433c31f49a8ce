"""The demo studio's catalog: what `demo-data` offers and builds its customers' history from."""

from __future__ import annotations

from datetime import time

from core.services.catalog import (
    CatalogSpec,
    EventSpec,
    FacilitatorSpec,
    PassTypeSpec,
    PlanSpec,
    QuestionnaireSpec,
    ServiceSpec,
    VideoSpec,
    WeeklySlot,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _weekly(days: tuple[int, ...], hour: int, minute: int = 0) -> tuple[WeeklySlot, ...]:
    return tuple(WeeklySlot(day, time(hour, minute)) for day in days)


DEMO_CATALOG = CatalogSpec(
    events=(
        EventSpec(
            key="morning-yoga",
            name="Morning Yoga",
            timezone="Europe/London",
            price_minor=1200,
            capacity=20,
            duration_minutes=60,
            weekly=_weekly((MON, WED, FRI), 7),
            description="A gentle vinyasa flow to start the day.",
        ),
        EventSpec(
            key="lunchtime-hiit",
            name="Lunchtime HIIT",
            timezone="Europe/London",
            price_minor=1000,
            capacity=16,
            duration_minutes=45,
            weekly=_weekly((TUE, THU), 12, 30),
        ),
        EventSpec(
            key="sunset-pilates",
            name="Sunset Pilates",
            timezone="Europe/Madrid",
            price_minor=1400,
            capacity=14,
            duration_minutes=50,
            weekly=_weekly((TUE, THU), 19, 30),
            description="Mat Pilates on the terrace in Madrid, streamed live.",
        ),
        EventSpec(
            key="cafe-barre",
            name="Café Barre",
            timezone="Europe/Paris",
            price_minor=1300,
            capacity=12,
            duration_minutes=55,
            weekly=_weekly((SAT,), 10),
        ),
        EventSpec(
            key="nyc-bootcamp",
            name="NYC Bootcamp",
            timezone="America/New_York",
            price_minor=1500,
            capacity=25,
            duration_minutes=60,
            weekly=_weekly((SAT,), 9),
            credit_price=2,
        ),
        EventSpec(
            key="tokyo-breathwork",
            name="Tokyo Breathwork",
            timezone="Asia/Tokyo",
            price_minor=800,
            capacity=30,
            duration_minutes=30,
            weekly=_weekly((SUN,), 8),
            description="Live online from Tokyo; late on Saturday evening in Europe.",
        ),
    ),
    services=(
        ServiceSpec("sports-massage", "Sports Massage", 60, 5500, credit_price=3),
        ServiceSpec("private-yoga", "Private Yoga Lesson", 45, 4000, credit_price=2),
        ServiceSpec("physio-assessment", "Physiotherapy Assessment", 30, 3500, credit_price=2),
        ServiceSpec("nutrition", "Nutrition Consultation", 90, 7000, credit_price=4),
    ),
    facilitators=(
        FacilitatorSpec("amelie", "Amélie Durand", ("private-yoga", "nutrition")),
        FacilitatorSpec("tom", "Tom Baker", ("sports-massage", "physio-assessment")),
        FacilitatorSpec("priya", "Priya Nair", ("private-yoga", "sports-massage")),
        FacilitatorSpec("jorg", "Jörg Weiß", ("physio-assessment", "nutrition")),
    ),
    pass_types=(
        PassTypeSpec("intro-3", "Intro pass (3 classes)", 3, 14, 2500),
        PassTypeSpec("class-5", "5-class pass", 5, 60, 5500),
        PassTypeSpec("class-10", "10-class pass", 10, 90, 10000),
        PassTypeSpec("class-20", "20-class pass", 20, 180, 18000),
    ),
    videos=(
        VideoSpec("yoga-runners", "Yoga for Runners", 800, 1, 30),
        VideoSpec("pilates-fundamentals", "Pilates Fundamentals", 1500, None, None),
        VideoSpec("breathwork-basics", "Breathwork Basics", 500, 1, 7),
        VideoSpec("core-strength", "Core Strength Series", 2500, 2, 365),
        VideoSpec("evening-stretch", "Étirements du soir", 600, 1, 14),
        VideoSpec("mobility-masterclass", "Mobility Masterclass", 1200, None, None),
    ),
    plans=(
        PlanSpec("unlimited-monthly", "Unlimited Monthly", 8900, "month"),
        PlanSpec("online-weekly", "Online Weekly", 900, "week"),
        PlanSpec("annual-membership", "Annual Membership", 85000, "year"),
    ),
    questionnaires=(
        QuestionnaireSpec(
            "health-screening",
            "Health screening",
            (
                "Do you have any injuries we should know about?",
                "Are you pregnant or have you given birth in the last six months?",
                "Do you have a heart condition or high blood pressure?",
                "Are you taking any medication that affects exercise?",
                "Who should we contact in an emergency?",
            ),
        ),
        QuestionnaireSpec(
            "liability-waiver",
            "Liability waiver",
            (
                "Do you accept the studio's terms and conditions?",
                "Do you consent to taking part at your own risk?",
                "May we use photos of classes you appear in?",
            ),
        ),
        QuestionnaireSpec(
            "class-feedback",
            "Class feedback",
            (
                "Which class did you attend?",
                "How would you rate the instructor (1–5)?",
                "Was the pace right for you?",
                "What should we change?",
            ),
        ),
        QuestionnaireSpec(
            "goals",
            "Goals & experience",
            (
                "What brings you to the studio?",
                "How often do you exercise now?",
                "Which classes interest you most?",
                "Any previous yoga or Pilates experience?",
                "What would you like to achieve in three months?",
                "How did you hear about us?",
            ),
        ),
    ),
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
