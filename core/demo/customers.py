"""Demo data: realistic, varied customers inserted in bulk for trying the app and benchmarks."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import exists, func, insert, select

from core.db import UnitOfWork
from core.demo.catalog import DEMO_ANSWERS, DEMO_CATALOG
from core.demo.history import (
    DEMO_STAFF,
    MIN_AUTHORS,
    YEAR,
    DemoCustomer,
    HistoryGenerator,
    HistorySummary,
)
from core.models import (
    Appointment,
    Booking,
    Customer,
    CustomerStatus,
    Note,
    Pass,
    QuestionnaireResponse,
    Role,
    StaffMember,
    Subscription,
    VideoPurchase,
)
from core.services.catalog import sync_catalog
from core.services.customers import name_key, new_uid
from core.services.workspaces import ensure_workspace
from core.text import fold

DEMO_ACTOR = "demo-data"
BATCH_SIZE = 5000
# History is heavy (dozens of rows a customer), so only this many customers get one by default.
HISTORY_CUSTOMERS = 1000
HISTORY_BATCH_SIZE = 200
ARCHIVED_SHARE = 0.1
HISTORY_DAYS = 730
# Every ZOE_EVERY-th customer is a Zoë/Zoe/Zoey/Zoé, so "zoe" finds someone in any demo set.
ZOE_EVERY = 40
ZOES = ("Zoë", "Zoe", "Zoey", "Zoé")
# Share of customers whose mobile is from the workspace's own country rather than their culture's.
LOCAL_MOBILE_SHARE = 0.6

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What one demo load inserted."""

    team_id: str
    created: int
    archived: int
    # The customers this load made have ids above this one.
    after_id: int = 0


@dataclass(frozen=True)
class _Culture:
    weight: int
    regions: tuple[str, ...]
    # (first names, last names) pairs; gendered surnames keep their matching first names.
    groups: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


_ENGLISH_FIRST = _names(
    "Oliver, George, Harry, Jack, Noah, Leo, Arthur, Oscar, Charlie, Freddie, Thomas, James, "
    "William, Henry, Alfie, Amelia, Olivia, Isla, Ava, Emily, Sophie, Grace, Lily, Freya, Ella, "
    "Poppy, Charlotte, Evie, Florence, Daisy, Chloe, Zoe, Hannah, Rosie, Imogen, Matilda"
)
_ENGLISH_LAST = _names(
    "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, Thompson, "
    "Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, Hughes, Edwards, Turner, "
    "Hill, Moore, Cooper, Ward, Morris, King, Harrison, Smithson, Baker, Fletcher, Ashworth"
)
_CULTURES: tuple[_Culture, ...] = (
    _Culture(36, ("GB",), ((_ENGLISH_FIRST, _ENGLISH_LAST),)),
    _Culture(4, ("AU",), ((_ENGLISH_FIRST, _ENGLISH_LAST),)),
    _Culture(
        5,
        ("US", "CA"),
        (
            (
                _names(
                    "Zoey, Madison, Brooklyn, Aubrey, Harper, Avery, Ethan, Mason, Aiden, Logan, "
                    "Jayden, Caleb, Emma, Abigail, Mia"
                ),
                _names(
                    "Miller, Davis, Garcia, Rodriguez, Martinez, Anderson, Thomas, Moore, Lee, "
                    "Harris, Clark, Lewis, Young, Allen, Scott"
                ),
            ),
        ),
    ),
    _Culture(
        6,
        ("IE",),
        (
            (
                _names(
                    "Siobhán, Aoife, Niamh, Saoirse, Róisín, Caoimhe, Éabha, Orla, Seán, Ciarán, "
                    "Oisín, Pádraig, Darragh, Cian, Tadhg, Eoin"
                ),
                _names(
                    "O'Brien, Murphy, Kelly, O'Sullivan, Walsh, Byrne, Ryan, O'Connor, McCarthy, "
                    "Doyle, Ní Bhriain, Ó Súilleabháin, Mac Giolla, Fitzgerald, Gallagher"
                ),
            ),
        ),
    ),
    _Culture(
        6,
        ("DE",),
        (
            (
                _names(
                    "Lukas, Jürgen, Jörg, Günther, Felix, Maximilian, Lena, Mia, Hannah, Lea, "
                    "Jana, Käthe, Björn, Zoë, Anneliese"
                ),
                _names(
                    "Müller, Schmidt, Schneider, Fischer, Weiß, Schäfer, Groß, Köhler, Wagner, "
                    "Becker, Hoffmann, Krüger, Böhm, Lehmann, Vogel"
                ),
            ),
        ),
    ),
    _Culture(
        6,
        ("FR",),
        (
            (
                _names(
                    "Chloé, François, Zoé, Léa, Amélie, Hélène, Loïc, Théo, Gaëlle, Noël, Élodie, "
                    "Jérôme, Inès, Anaïs, Mathéo"
                ),
                _names(
                    "Dubois, Lefèvre, Martin, Bernard, Moreau, Girard, Rousseau, Lefebvre, Fournier, "
                    "Mercier, Bonnet, Faure, Chevalier, Lemaître, Benoît"
                ),
            ),
        ),
    ),
    _Culture(
        6,
        ("ES",),
        (
            (
                _names(
                    "José, Ana-María, María José, Jesús, Lucía, Martín, Sofía, Álvaro, Nuria, "
                    "Íñigo, Begoña, Raúl, Inés, Adrián, Mónica"
                ),
                _names(
                    "García, Fernández, López, Martínez, Sánchez, Pérez, Gómez Ruiz, Núñez, Muñoz, "
                    "Jiménez, Díaz, Ibáñez, Ortiz, Peña, Castaño"
                ),
            ),
        ),
    ),
    _Culture(
        3,
        ("PT",),
        (
            (
                _names("João, Gonçalo, Conceição, Inês, Tomás, Beatriz, Simão, Leonor, Sebastião"),
                _names("Gonçalves, Silva, Santos, Ferreira, Magalhães, Araújo, Brandão, Simões"),
            ),
        ),
    ),
    _Culture(
        4,
        ("IT",),
        (
            (
                _names(
                    "Giulia, Niccolò, Francesca, Lorenzo, Chiara, Matteo, Zoe, Federica, Andrea"
                ),
                _names("Rossi, Esposito, Bianchi, Romano, De Luca, D'Angelo, Ricci, Marino, Greco"),
            ),
        ),
    ),
    _Culture(
        5,
        ("PL",),
        (
            (
                _names("Małgorzata, Agnieszka, Zofia, Ewa, Katarzyna, Paulina, Zuzanna"),
                _names("Kowalska, Wiśniewska, Wójcik, Nowak, Zielińska, Łukasiewicz, Kamińska"),
            ),
            (
                _names("Łukasz, Paweł, Wojciech, Krzysztof, Michał, Grzegorz, Jędrzej"),
                _names("Kowalski, Wiśniewski, Wójcik, Nowak, Zieliński, Łukasiewicz, Kamiński"),
            ),
        ),
    ),
    _Culture(
        4,
        ("DK", "SE", "NO"),
        (
            (
                _names(
                    "Søren, Mads, Freja, Astrid, Åsa, Øystein, Sigrid, Ingrid, Björn, Märta, "
                    "Linnéa, Rasmus"
                ),
                _names(
                    "Sørensen, Jensen, Nielsen, Åberg, Lindqvist, Ødegaard, Bjørnstad, Söderberg, "
                    "Hansen, Strøm, Nyström"
                ),
            ),
        ),
    ),
    _Culture(
        1,
        ("IS",),
        (
            (
                _names("Björk, Sigríður, Guðrún, Þóra, Hildur"),
                _names("Guðmundsdóttir, Jónsdóttir, Sigurðardóttir, Þórsdóttir"),
            ),
            (
                _names("Jökull, Þór, Guðmundur, Ólafur, Einar"),
                _names("Guðmundsson, Jónsson, Sigurðsson, Þórsson"),
            ),
        ),
    ),
    _Culture(
        3,
        ("VN",),
        (
            (
                _names("Minh, Thảo, Linh, Phương, Huy, Trâm, Đức, Quỳnh, Tuấn, Ngọc"),
                _names("Nguyễn, Trần, Lê, Phạm, Hoàng, Đặng, Vũ, Bùi"),
            ),
        ),
    ),
    _Culture(
        3,
        ("TR",),
        (
            (
                _names("Ömer, Özlem, Çağrı, Şule, İbrahim, Gökhan, Ayşe, Elif, Emre, Zeynep"),
                _names("Yılmaz, Öztürk, Şahin, Çelik, Doğan, Kılıç, Aydın, Arslan"),
            ),
        ),
    ),
    _Culture(
        2,
        ("JP",),
        (
            (
                _names("陽菜, 結衣, 蓮, 大翔, 葵, 湊, Yuki, Haruto, Sakura"),
                _names("田中, 佐藤, 鈴木, 高橋, 渡辺, Tanaka, Yamamoto, Kobayashi"),
            ),
        ),
    ),
    _Culture(
        2,
        ("RU",),
        (
            (
                _names("Мария, Анна, Ольга, Екатерина, Наталья"),
                _names("Иванова, Петрова, Смирнова, Кузнецова, Соколова"),
            ),
            (
                _names("Дмитрий, Иван, Алексей, Сергей, Михаил"),
                _names("Иванов, Петров, Смирнов, Кузнецов, Соколов"),
            ),
        ),
    ),
    _Culture(
        6,
        ("IN", "GB"),
        (
            (
                _names(
                    "Priya, Aarav, Ananya, Rohan, Saanvi, Arjun, Diya, Vihaan, Ishaan, Kavya, Zoya"
                ),
                _names("Patel, Sharma, Singh, Gupta, Iyer, Reddy, Nair, Chopra, Kapoor, Mehta"),
            ),
        ),
    ),
)

# Romanised forms for email addresses of names in scripts that ASCII folding cannot reach.
_ROMANISED = {
    "陽菜": "hina",
    "結衣": "yui",
    "蓮": "ren",
    "大翔": "hiroto",
    "葵": "aoi",
    "湊": "minato",
    "田中": "tanaka",
    "佐藤": "sato",
    "鈴木": "suzuki",
    "高橋": "takahashi",
    "渡辺": "watanabe",
    "Мария": "maria",
    "Анна": "anna",
    "Ольга": "olga",
    "Екатерина": "ekaterina",
    "Наталья": "natalya",
    "Иванова": "ivanova",
    "Петрова": "petrova",
    "Смирнова": "smirnova",
    "Кузнецова": "kuznetsova",
    "Соколова": "sokolova",
    "Дмитрий": "dmitry",
    "Иван": "ivan",
    "Алексей": "alexey",
    "Сергей": "sergey",
    "Михаил": "mikhail",
    "Иванов": "ivanov",
    "Петров": "petrov",
    "Смирнов": "smirnov",
    "Кузнецов": "kuznetsov",
    "Соколов": "sokolov",
}

# Mobile ranges checked against phonenumbers: (country code, national prefixes, national length).
# North American numbers use the fictional 555-01xx block.
_MOBILES: dict[str, tuple[str, tuple[str, ...], int]] = {
    "GB": (
        "44",
        ("7400", "7412", "7446", "7507", "7701", "7707", "7712", "7780", "7809", "7850", "7920"),
        10,
    ),
    "IE": ("353", ("83", "85", "86", "87", "89"), 9),
    "US": ("1", ("21255501", "41555501", "61755501", "31255501", "51255501", "20655501"), 10),
    "CA": ("1", ("41655501", "60455501", "51455501"), 10),
    "DE": ("49", ("151", "152", "157", "160", "162", "172", "176"), 11),
    "FR": ("33", ("6012", "6123", "6345", "6612", "6789", "7516"), 9),
    "ES": ("34", ("6",), 9),
    "PT": ("351", ("91", "92", "93", "96"), 9),
    "IT": ("39", ("320", "333", "347", "349", "380"), 10),
    "AU": ("61", ("4012", "4123", "4234", "4345", "4567"), 9),
    "PL": ("48", ("50", "51", "53", "57", "60", "66", "69", "72", "78", "88"), 9),
    "DK": ("45", ("2012", "2234", "2456", "3012", "4012", "5012"), 8),
    "SE": ("46", ("70", "72", "73", "76", "79"), 9),
    "NO": ("47", ("4012", "4123", "4567", "9012", "9123"), 8),
    "IS": ("354", ("611", "620", "660", "690"), 7),
    "VN": ("84", ("90", "91", "96", "97", "98"), 9),
    "TR": ("90", ("530", "532", "533", "535", "541", "542", "555"), 10),
    "JP": ("81", ("7010", "8012", "9012", "9087"), 10),
    "RU": ("7", ("916", "925", "903", "965"), 10),
    "IN": ("91", ("7012", "8123", "9123", "9876"), 10),
}

_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "post.example.org")
_DOMAIN_WEIGHTS = (50, 20, 18, 7, 5)
_NOT_LOCAL_PART = re.compile(r"[^a-z0-9-]")


@cache
def _ascii(name: str) -> str:
    romanised = _ROMANISED.get(name)
    if romanised is not None:
        return romanised
    return _NOT_LOCAL_PART.sub("", fold(name)).strip("-")


class _Generator:
    """Draws customers from the name pools; keeps emails unique against `taken`."""

    def __init__(self, rng: random.Random, now: datetime, home_region: str, taken: set[str]):
        self.rng = rng
        self.now = now.replace(microsecond=0)
        self.home_region = home_region if home_region in _MOBILES else "GB"
        self.taken = taken
        self.suffixes: dict[str, int] = {}
        self.keys: dict[tuple[str, str], str] = {}
        self.weights = [culture.weight for culture in _CULTURES]

    def row(self, team_id: str, index: int) -> dict[str, Any]:
        rng = self.rng
        culture = rng.choices(_CULTURES, self.weights)[0]
        firsts, lasts = rng.choice(culture.groups)
        forced_zoe = index % ZOE_EVERY == 0
        first = ZOES[(index // ZOE_EVERY) % len(ZOES)] if forced_zoe else rng.choice(firsts)
        last = rng.choice(lasts)
        key = self.keys.get((first, last))
        if key is None:
            key = self.keys[first, last] = name_key(first, last)
        local = rng.random() < LOCAL_MOBILE_SHARE
        region = self.home_region if local else rng.choice(culture.regions)
        archived = not forced_zoe and rng.random() < ARCHIVED_SHARE
        # Skewed towards recent sign-ups, as a growing business sees.
        age = timedelta(seconds=int(HISTORY_DAYS * 86400 * rng.random() ** 1.4))
        created = self.now - age
        updated = created
        if archived or rng.random() < 0.25:
            updated = created + timedelta(seconds=int(age.total_seconds() * rng.random()))
        return {
            "team_id": team_id,
            "uid": new_uid(),
            "first_name": first,
            "last_name": last,
            "name_key": key,
            "email": self.email(first, last),
            "mobile": self.mobile(region),
            "password_hash": None,
            "status": CustomerStatus.ARCHIVED if archived else CustomerStatus.ACTIVE,
            "merged_into_id": None,
            "version": 1,
            "created_at": created,
            "updated_at": updated,
            "updated_by": DEMO_ACTOR,
        }

    def email(self, first: str, last: str) -> str:
        rng = self.rng
        given, family = _ascii(first), _ascii(last)
        pattern = rng.random()
        if pattern < 0.45:
            local = f"{given}.{family}"
        elif pattern < 0.6:
            local = f"{given}{family}"
        elif pattern < 0.75:
            local = f"{given[0]}{family}"
        elif pattern < 0.8:
            local = f"{given}_{family}"
        elif pattern < 0.85:
            local = f"{family}.{given}"
        elif pattern < 0.92:
            local = f"{given}{family[0]}"
        else:
            local = f"{given}.{family}{rng.randint(70, 105) % 100:02d}"
        domain = rng.choices(_DOMAINS, _DOMAIN_WEIGHTS)[0]
        address = f"{local}@{domain}"
        if address in self.taken:
            # Number the address like mail providers do, remembering where each name got to.
            n = self.suffixes.get(address, rng.randint(1, 9))
            base = address
            while (address := f"{local}{n}@{domain}") in self.taken:
                n += 1
            self.suffixes[base] = n + 1
        self.taken.add(address)
        return address

    def mobile(self, region: str) -> str:
        country, prefixes, length = _MOBILES[region]
        prefix = self.rng.choice(prefixes)
        rest = length - len(prefix)
        return f"+{country}{prefix}{self.rng.randrange(10**rest):0{rest}d}"


def load_demo_customers(
    uow: UnitOfWork,
    team_id: str,
    count: int,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> DemoSummary:
    """Insert `count` generated customers into `team_id` in bulk, within the caller's transaction.

    `progress(done, total)` is called after each batch. No welcome mail is queued.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    workspace = ensure_workspace(uow, team_id)
    taken = set(uow.session.scalars(select(Customer.email).where(Customer.team_id == team_id)))
    after_id = uow.session.scalar(select(func.max(Customer.id))) or 0
    generator = _Generator(random.Random(seed), uow.now(), workspace.default_region, taken)
    archived = 0
    done = 0
    while done < count:
        batch = [generator.row(team_id, i) for i in range(done, min(done + batch_size, count))]
        archived += sum(1 for row in batch if row["status"] is CustomerStatus.ARCHIVED)
        uow.session.execute(insert(Customer), batch)
        done += len(batch)
        if progress is not None:
            progress(done, count)
    return DemoSummary(team_id=team_id, created=count, archived=archived, after_id=after_id)


def _authors(uow: UnitOfWork, team_id: str) -> list[str]:
    """The workspace's admins and staff, topped up with fictional staff to have several."""
    staff = uow.session.scalars(
        select(StaffMember.slack_user_id)
        .where(StaffMember.team_id == team_id)
        .order_by(StaffMember.role != Role.ADMIN, StaffMember.id)
    )
    authors = list(dict.fromkeys([*uow.settings.configured_admins(team_id), *staff]))
    authors.extend(DEMO_STAFF[: max(0, MIN_AUTHORS - len(authors))])
    return authors


# What demo history gives a customer: a row of any of these is a visit, purchase or record of
# theirs, and a customer with one is never given more.
HISTORY_MODELS = (
    Booking,
    Appointment,
    Pass,
    VideoPurchase,
    Subscription,
    QuestionnaireResponse,
    Note,
)


def _customers_without_history(
    uow: UnitOfWork, team_id: str, limit: int, after_id: int
) -> list[DemoCustomer]:
    """Demo-made customers above `after_id` with nothing recorded yet, oldest id first (never
    real customers)."""
    customer_history = [
        exists().where(model.customer_id == Customer.id) for model in HISTORY_MODELS
    ]
    rows = uow.session.execute(
        select(Customer.id, Customer.uid, Customer.created_at, Customer.updated_at, Customer.status)
        .where(
            Customer.team_id == team_id,
            Customer.updated_by == DEMO_ACTOR,
            Customer.id > after_id,
            *(~has for has in customer_history),
        )
        .order_by(Customer.id)
        .limit(limit)
    )
    now = uow.now().replace(microsecond=0)
    found = []
    for customer_id, uid, created_at, updated_at, status in rows:
        active = status is CustomerStatus.ACTIVE
        # An archived customer's history stops when they were archived.
        end = now if active else max(updated_at, created_at)
        start = max(created_at, now - YEAR)
        found.append(DemoCustomer(customer_id, uid, min(start, end), end, active))
    return found


def load_demo_history(
    uow: UnitOfWork,
    team_id: str,
    *,
    customers_limit: int = HISTORY_CUSTOMERS,
    made: DemoSummary | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    batch_size: int = HISTORY_BATCH_SIZE,
) -> HistorySummary:
    """Add the demo catalog to `team_id` and a year of history to up to `customers_limit` demo customers.

    Only customers made by `load_demo_customers` that have no history yet are chosen; given the
    load that `made` them, only those, so each customer's year is drawn once (some draw none).
    `progress(done, total)` is called after each batch.
    """
    if customers_limit < 0:
        raise ValueError("customers_limit must not be negative")
    workspace = ensure_workspace(uow, team_id)
    ids = sync_catalog(uow, team_id, DEMO_CATALOG)
    after_id = made.after_id if made is not None else 0
    customers = _customers_without_history(uow, team_id, customers_limit, after_id)
    generator = HistoryGenerator(
        uow,
        random.Random(seed),
        team_id=team_id,
        currency=workspace.currency,
        timezone=workspace.timezone,
        catalog=DEMO_CATALOG,
        ids=ids,
        answers=DEMO_ANSWERS,
        authors=_authors(uow, team_id),
    )
    for first in range(0, len(customers), batch_size):
        generator.add_batch(customers[first : first + batch_size])
        if progress is not None:
            progress(min(first + batch_size, len(customers)), len(customers))
    counts = generator.counts
    return HistorySummary(
        team_id=team_id,
        customers=len(customers),
        occurrences=ids.occurrences_added,
        bookings=counts["bookings"],
        appointments=counts["appointments"],
        passes=counts["passes"],
        videos=counts["videos"],
        subscriptions=counts["subscriptions"],
        questionnaires=counts["questionnaires"],
        notes=counts["notes"],
    )
