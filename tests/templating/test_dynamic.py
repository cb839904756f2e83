"""Dynamic variables: the full name list, exact formats, shapes, and seeding."""

from __future__ import annotations

import random
import re
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote

import pytest

from postmock.templating.dynamic import CLOCK_NAMES, NAMES, DynamicValues

# Postman's documented list (learning.postman.com "Dynamic variables"), by category.
DOCUMENTED = """
guid timestamp isoTimestamp randomUUID
randomAlphaNumeric randomBoolean randomInt randomColor randomHexColor randomAbbreviation
randomIP randomIPV6 randomMACAddress randomPassword randomLocale randomUserAgent
randomProtocol randomSemver
randomFirstName randomLastName randomFullName randomNamePrefix randomNameSuffix
randomJobArea randomJobDescriptor randomJobTitle randomJobType
randomPhoneNumber randomPhoneNumberExt randomCity randomStreetName randomStreetAddress
randomCountry randomCountryCode randomLatitude randomLongitude
randomAvatarImage randomImageUrl randomAbstractImage randomAnimalsImage randomBusinessImage
randomCatsImage randomCityImage randomFoodImage randomNightlifeImage randomFashionImage
randomPeopleImage randomNatureImage randomSportsImage randomTransportImage randomImageDataUri
randomBankAccount randomBankAccountName randomCreditCardMask randomBankAccountBic
randomBankAccountIban randomTransactionType randomCurrencyCode randomCurrencyName
randomCurrencySymbol randomBitcoin
randomCompanyName randomCompanySuffix randomBs randomBsAdjective randomBsBuzz randomBsNoun
randomCatchPhrase randomCatchPhraseAdjective randomCatchPhraseDescriptor randomCatchPhraseNoun
randomDatabaseColumn randomDatabaseType randomDatabaseCollation randomDatabaseEngine
randomDateFuture randomDatePast randomDateRecent randomWeekday randomMonth
randomDomainName randomDomainSuffix randomDomainWord randomEmail randomExampleEmail
randomUserName randomUrl
randomFileName randomFileType randomFileExt randomCommonFileName randomCommonFileType
randomCommonFileExt randomFilePath randomDirectoryPath randomMimeType
randomPrice randomProduct randomProductAdjective randomProductMaterial randomProductName
randomDepartment
randomNoun randomVerb randomIngverb randomAdjective randomWord randomWords randomPhrase
randomLoremWord randomLoremWords randomLoremSentence randomLoremSentences
randomLoremParagraph randomLoremParagraphs randomLoremText randomLoremSlug randomLoremLines
""".split()

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
JS_DATE = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d\d \d{4} \d\d:\d\d:\d\d GMT\+0000 \(.+\)"
SAMPLES = 40  # draws per format check, so one lucky value cannot pass a wrong generator

FORMATS = {
    "guid": UUID4,
    "randomUUID": UUID4,
    "timestamp": r"\d{10}",
    "isoTimestamp": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
    "randomInt": r"0|[1-9]\d{0,2}|1000",
    "randomAlphaNumeric": r"[a-z0-9]",
    "randomPassword": r"[A-Za-z0-9]{15}",
    "randomPhoneNumber": r"[1-9]\d\d-[1-9]\d\d-\d{4}",
    "randomPhoneNumberExt": r"[1-9]\d?-[1-9]\d\d-[1-9]\d\d-\d{4}",
    "randomBankAccount": r"\d{8}",
    "randomPrice": r"(0|[1-9]\d{0,3})\.\d\d",
    "randomBoolean": r"true|false",
    "randomHexColor": r"#[0-9a-f]{6}",
    "randomIP": r"(\d{1,3}\.){3}\d{1,3}",
    "randomIPV6": r"([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}",
    "randomMACAddress": r"([0-9a-f]{2}:){5}[0-9a-f]{2}",
    "randomLocale": r"[a-z]{2}",
    "randomCountryCode": r"[A-Z]{2}",
    "randomCurrencyCode": r"[A-Z]{3}",
    "randomSemver": r"\d\.\d\.\d",
    "randomProtocol": r"https?",
    "randomCreditCardMask": r"\d{4}",
    "randomBitcoin": r"[13][1-9A-HJ-NP-Za-km-z]{25,33}",
    "randomBankAccountIban": r"[A-Z]{2}\d\d[A-Z0-9]{10,30}",
    "randomBankAccountBic": r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?",
    "randomLatitude": r"-?\d{1,2}\.\d{4}",
    "randomLongitude": r"-?\d{1,3}\.\d{4}",
    "randomAbbreviation": r"[A-Z0-9]{2,7}",
    "randomImageUrl": r"https?://\S+",
    "randomAvatarImage": r"https?://\S+",
    "randomCatsImage": r"https?://\S+/640/480/cats\S*",
    "randomImageDataUri": r"data:image/svg\+xml;charset=UTF-8,%3Csvg\S+%3C%2Fsvg%3E",
    "randomEmail": r"[^@\s]+@[^@\s]+\.[a-z]+",
    "randomExampleEmail": r"[^@\s]+@example\.(com|org|net)",
    "randomUrl": r"https?://\S+",
    "randomDomainName": r"[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]+",
    "randomDomainSuffix": r"[a-z]+",
    "randomMimeType": r"[a-z]+/[\w.+-]+",
    "randomFileName": r"\w+\.\w+",
    "randomFilePath": r"(/\w+)+/\w+\.\w+",
    "randomDirectoryPath": r"(/\w+)+",
    "randomLoremSlug": r"[a-z]+-[a-z]+-[a-z]+",
    "randomLoremLines": r"[A-Z][a-z ]+\.(\n[A-Z][a-z ]+\.){0,4}",
    "randomDateFuture": JS_DATE,
    "randomDatePast": JS_DATE,
    "randomDateRecent": JS_DATE,
    "randomWeekday": r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day",
    "randomIngverb": r"[a-z]+ing",
    "randomWords": r"\S+( \S+){1,4}",
}


@pytest.fixture(scope="module")
def values() -> DynamicValues:
    return DynamicValues(seed=1234)


def test_names_match_postmans_documented_list() -> None:
    assert len(DOCUMENTED) == len(set(DOCUMENTED)) == 118
    assert NAMES == frozenset(DOCUMENTED)
    assert DynamicValues.NAMES is NAMES
    assert CLOCK_NAMES < NAMES


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_name_gives_a_non_empty_string(values: DynamicValues, name: str) -> None:
    value = values.generate(name)
    assert isinstance(value, str) and value.strip()


@pytest.mark.parametrize("name", ["$randomInt", "randomint", "random", "", "body"])
def test_unknown_names_give_none(values: DynamicValues, name: str) -> None:
    assert values.generate(name) is None


@pytest.mark.parametrize(("name", "pattern"), sorted(FORMATS.items()), ids=sorted(FORMATS))
def test_format(values: DynamicValues, name: str, pattern: str) -> None:
    for _ in range(SAMPLES):
        value = values.generate(name)
        assert value is not None and re.fullmatch(pattern, value), (name, value)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("randomInt", 0, 1000),
        ("randomPrice", 0, 1000),
        ("randomLatitude", -90, 90),
        ("randomLongitude", -180, 180),
    ],
    ids=["int", "price", "latitude", "longitude"],
)
def test_range(values: DynamicValues, name: str, low: float, high: float) -> None:
    drawn = [float(values.generate(name) or "nan") for _ in range(300)]
    assert all(low <= x <= high for x in drawn)
    assert len(set(drawn)) > 100  # really random, not a constant


def test_uuids_are_version_4(values: DynamicValues) -> None:
    for name in ("guid", "randomUUID"):
        assert uuid.UUID(values.generate(name) or "").version == 4


def test_clock_values_are_now(values: DynamicValues) -> None:
    before = time.time()
    stamp = int(values.generate("timestamp") or "0")
    iso = datetime.strptime(values.generate("isoTimestamp") or "", "%Y-%m-%dT%H:%M:%S.%f%z")
    after = time.time()
    assert round(before) <= stamp <= round(after)
    assert before - 0.001 <= iso.timestamp() <= after + 0.001


@pytest.mark.parametrize(
    ("name", "sign"),
    [("randomDatePast", -1), ("randomDateFuture", 1)],
    ids=["past", "future"],
)
def test_dates_are_on_the_right_side_of_now(values: DynamicValues, name: str, sign: int) -> None:
    now = datetime.now(timezone.utc)
    for _ in range(SAMPLES):
        text = (values.generate(name) or "").split(" GMT")[0]
        when = datetime.strptime(text, "%a %b %d %Y %H:%M:%S").replace(tzinfo=timezone.utc)
        assert sign * (when - now).total_seconds() > -2


def test_image_data_uri_is_an_svg(values: DynamicValues) -> None:
    uri = values.generate("randomImageDataUri") or ""
    svg = unquote(uri.split(",", 1)[1])
    assert svg.startswith("<svg xmlns=") and svg.endswith("</svg>")


def test_lorem_lines_are_separate_lines(values: DynamicValues) -> None:
    counts = {len((values.generate("randomLoremLines") or "").split("\n")) for _ in range(100)}
    assert counts <= set(range(1, 6)) and len(counts) > 1


def sequence(values: DynamicValues) -> list[str | None]:
    repeatable = sorted(NAMES - CLOCK_NAMES)
    return [values.generate(name) for name in repeatable * 2]


def test_same_seed_repeats_the_sequence() -> None:
    assert sequence(DynamicValues(seed=7)) == sequence(DynamicValues(seed=7))


def test_different_seeds_differ() -> None:
    first, second = sequence(DynamicValues(seed=7)), sequence(DynamicValues(seed=8))
    assert sum(a != b for a, b in zip(first, second, strict=True)) > len(first) // 2


def test_unseeded_instances_differ() -> None:
    assert sequence(DynamicValues()) != sequence(DynamicValues())


def test_global_random_is_left_alone() -> None:
    random.seed(99)
    state = random.getstate()
    sequence(DynamicValues())
    sequence(DynamicValues(seed=3))
    assert random.getstate() == state


def test_faker_is_created_once_on_first_use() -> None:
    values = DynamicValues(seed=1)
    first = values.faker
    values.generate("randomInt")
    assert values.faker is first


def test_names_are_exactly_the_generators() -> None:
    from postmock.templating.fakedata import GENERATORS

    assert frozenset(GENERATORS) == NAMES
    assert len(NAMES) == 118


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31])
def test_guid_is_a_uuid4_drawn_from_the_seeded_random(seed: int) -> None:
    import random
    import uuid

    got = DynamicValues(seed=seed).generate("guid")
    bits = random.Random(seed).getrandbits(128)  # the same draw, from an identical Random
    assert got == str(uuid.UUID(int=bits, version=4))
