"""Generators for Postman's 118 dynamic variables, made with Faker.

Postman generates them with faker.js (postman-collection `dynamic-variables.js`); each name
here maps to a small function of one Faker instance whose output has the same shape. Names
are given without the leading `$`. With a seed the sequence of values is repeatable, except
for the clock-based ones (`CLOCK_NAMES`).
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from urllib.parse import quote

from faker import Faker
from faker.providers import BaseProvider
from faker.providers.company.en_US import Provider as _Company
from faker.providers.lorem.la import Provider as _LatinLorem

__all__ = ["GENERATORS", "Generator"]

Generator = Callable[[Faker], str]

LATIN: list[str] = list(_LatinLorem.word_list)  # faker.js lorem is Latin; Faker's `la` list
LANGUAGES = tuple(sorted(c for c in BaseProvider.language_locale_codes if len(c) == 2))
# Faker's company word tables; faker.js has one method per column.
CATCH_PHRASE_WORDS = [list(map(str, w)) for w in _Company.catch_phrase_words]  # adj/descr/noun
BS_WORDS = [list(map(str, w)) for w in _Company.bsWords]  # buzz verb, adjective, noun
ALPHANUMERIC = string.ascii_lowercase + string.digits  # faker.js random.alphaNumeric
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Faker has no database or transaction-type provider: these few tokens are the only data
# not taken from Faker (SQL keywords rather than words).
SQL_TYPES = ("int", "varchar", "text", "date", "datetime", "bigint", "decimal", "float",
             "double", "boolean", "timestamp", "blob", "binary", "enum", "point")  # fmt: skip
SQL_ENGINES = ("InnoDB", "MyISAM", "MEMORY", "CSV", "ARCHIVE", "BLACKHOLE")
SQL_CHARSETS = ("utf8", "utf8mb4", "ascii", "latin1", "cp1250")
SQL_COLLATIONS = ("general_ci", "unicode_ci", "bin")
TRANSACTION_TYPES = ("deposit", "withdrawal", "payment", "invoice")
COMMON_FILE_TYPES = ("application", "audio", "image", "text", "video")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _js_date(dt: datetime) -> str:
    """Format like JavaScript's `Date.prototype.toString()` in UTC, as Postman shows dates."""
    return dt.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


def _iso_now(_: Faker) -> str:
    return _utc_now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unix_now(_: Faker) -> str:
    return str(round(_utc_now().timestamp()))


def _pick(f: Faker, words: Sequence[str]) -> str:
    return str(f.random_element(words))


def _phone(f: Faker) -> str:
    return f.numerify("%##-%##-####")


def _ingverb(f: Faker) -> str:
    verb = f.word(part_of_speech="verb")
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    return verb + "ing"


def _hacker_phrase(f: Faker) -> str:
    """Shaped like faker.js `hacker.phrase()`: an imperative sentence of tech speak."""
    abbr, adjective = f.file_extension().upper(), f.word(part_of_speech="adjective")
    verb, nouns = f.word(part_of_speech="verb"), f.words(3, part_of_speech="noun")
    return (
        f"If we {verb} the {nouns[0]}, we can get to the {abbr} {nouns[1]} "
        f"through the {adjective} {abbr} {nouns[2]}!"
    )


def _image(category: str) -> Generator:
    return lambda f: f"https://loremflickr.com/640/480/{category}?lock={f.random_int(1, 99999)}"


def _image_data_uri(f: Faker) -> str:
    width, height = f.random_int(64, 640), f.random_int(64, 480)
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" baseProfile="full" '
        f'width="{width}" height="{height}"><rect width="100%" height="100%" '
        f'fill="{f.safe_color_name()}"/><text x="{width / 2:g}" y="{height / 2:g}" '
        'font-size="20" alignment-baseline="middle" text-anchor="middle" fill="white">'
        f"{width}x{height}</text></svg>"
    )
    return "data:image/svg+xml;charset=UTF-8," + quote(svg, safe="")


def _bitcoin(f: Faker) -> str:
    tail = f.random_choices(BASE58, length=f.random_int(25, 33))
    return _pick(f, "13") + "".join(tail)


def _directory(f: Faker) -> str:
    return "/" + "/".join(f.words(f.random_int(1, 3)))


def _title(f: Faker, part_of_speech: str) -> str:
    return f.word(part_of_speech=part_of_speech).title()


def _job_type(f: Faker) -> str:
    return f.job().split(",")[0].split()[-1].title()


def _date(start: str, end: str) -> Generator:
    return lambda f: _js_date(f.date_time_between(start, end, tzinfo=timezone.utc))


def _uuid4(f: Faker) -> str:
    # DynamicValues answers these without Faker (`dynamic.uuid4_text`, the same values).
    return str(uuid.UUID(int=f.random.getrandbits(128), version=4))


def _lorem_sentences(f: Faker, low: int, high: int, sep: str) -> str:
    return sep.join(f.sentences(f.random_int(low, high), ext_word_list=LATIN))


GENERATORS: dict[str, Generator] = {
    # common
    "guid": lambda f: _uuid4(f),
    "timestamp": _unix_now,
    "isoTimestamp": _iso_now,
    "randomUUID": lambda f: _uuid4(f),
    # text, numbers, colors
    "randomAlphaNumeric": lambda f: _pick(f, ALPHANUMERIC),
    "randomBoolean": lambda f: "true" if f.pybool() else "false",
    "randomInt": lambda f: str(f.random_int(0, 1000)),
    "randomColor": lambda f: f.safe_color_name(),
    "randomHexColor": lambda f: f.hex_color(),
    "randomAbbreviation": lambda f: f.file_extension().upper(),
    # internet
    "randomIP": lambda f: ".".join(str(f.random_int(0, 255)) for _ in range(4)),
    "randomIPV6": lambda f: f.ipv6(),
    "randomMACAddress": lambda f: f.mac_address(),
    "randomPassword": lambda f: f.password(length=15, special_chars=False),
    "randomLocale": lambda f: _pick(f, LANGUAGES),
    "randomUserAgent": lambda f: f.user_agent(),
    "randomProtocol": lambda f: _pick(f, ("http", "https")),
    "randomSemver": lambda f: ".".join(str(f.random_digit()) for _ in range(3)),
    # names
    "randomFirstName": lambda f: f.first_name(),
    "randomLastName": lambda f: f.last_name(),
    "randomFullName": lambda f: f"{f.first_name()} {f.last_name()}",
    "randomNamePrefix": lambda f: f.prefix(),
    "randomNameSuffix": lambda f: f.suffix(),
    # profession
    "randomJobArea": lambda f: _pick(f, BS_WORDS[2]).title(),
    "randomJobDescriptor": lambda f: _pick(f, CATCH_PHRASE_WORDS[0]),
    "randomJobTitle": lambda f: f.job(),
    "randomJobType": _job_type,
    # phone, address, location
    "randomPhoneNumber": _phone,
    "randomPhoneNumberExt": lambda f: f"{f.random_int(1, 99)}-{_phone(f)}",
    "randomCity": lambda f: f.city(),
    "randomStreetName": lambda f: f.street_name(),
    "randomStreetAddress": lambda f: f.street_address(),
    "randomCountry": lambda f: f.country(),
    "randomCountryCode": lambda f: f.country_code(),
    "randomLatitude": lambda f: f"{f.latitude():.4f}",
    "randomLongitude": lambda f: f"{f.longitude():.4f}",
    # images
    "randomAvatarImage": lambda f: f"https://i.pravatar.cc/128?u={f.uuid4()}",
    "randomImageUrl": lambda f: f.image_url(),
    "randomAbstractImage": _image("abstract"),
    "randomAnimalsImage": _image("animals"),
    "randomBusinessImage": _image("business"),
    "randomCatsImage": _image("cats"),
    "randomCityImage": _image("city"),
    "randomFoodImage": _image("food"),
    "randomNightlifeImage": _image("nightlife"),
    "randomFashionImage": _image("fashion"),
    "randomPeopleImage": _image("people"),
    "randomNatureImage": _image("nature"),
    "randomSportsImage": _image("sports"),
    "randomTransportImage": _image("transport"),
    "randomImageDataUri": _image_data_uri,
    # finance
    "randomBankAccount": lambda f: f.numerify("########"),
    "randomBankAccountName": lambda f: f"{_title(f, 'noun')} Account",
    "randomCreditCardMask": lambda f: f.credit_card_number()[-4:],
    "randomBankAccountBic": lambda f: f.swift(),
    "randomBankAccountIban": lambda f: f.iban(),
    "randomTransactionType": lambda f: _pick(f, TRANSACTION_TYPES),
    "randomCurrencyCode": lambda f: f.currency_code(),
    "randomCurrencyName": lambda f: f.currency_name(),
    "randomCurrencySymbol": lambda f: f.currency_symbol(),
    "randomBitcoin": _bitcoin,
    # business
    "randomCompanyName": lambda f: f.company(),
    "randomCompanySuffix": lambda f: f.company_suffix(),
    "randomBs": lambda f: f.bs(),
    "randomBsAdjective": lambda f: _pick(f, BS_WORDS[1]),
    "randomBsBuzz": lambda f: _pick(f, BS_WORDS[0]),
    "randomBsNoun": lambda f: _pick(f, BS_WORDS[2]),
    # catchphrases
    "randomCatchPhrase": lambda f: f.catch_phrase(),
    "randomCatchPhraseAdjective": lambda f: _pick(f, CATCH_PHRASE_WORDS[0]),
    "randomCatchPhraseDescriptor": lambda f: _pick(f, CATCH_PHRASE_WORDS[1]),
    "randomCatchPhraseNoun": lambda f: _pick(f, CATCH_PHRASE_WORDS[2]),
    # databases
    "randomDatabaseColumn": lambda f: f.word(part_of_speech="noun"),
    "randomDatabaseType": lambda f: _pick(f, SQL_TYPES),
    "randomDatabaseCollation": lambda f: f"{_pick(f, SQL_CHARSETS)}_{_pick(f, SQL_COLLATIONS)}",
    "randomDatabaseEngine": lambda f: _pick(f, SQL_ENGINES),
    # dates
    "randomDateFuture": _date("+1s", "+1y"),
    "randomDatePast": _date("-1y", "-1s"),
    "randomDateRecent": _date("-1d", "now"),
    "randomWeekday": lambda f: f.day_of_week(),
    "randomMonth": lambda f: f.month_name(),
    # domains, emails, usernames
    "randomDomainName": lambda f: f.domain_name(),
    "randomDomainSuffix": lambda f: f.tld(),
    "randomDomainWord": lambda f: f.domain_word(),
    "randomEmail": lambda f: f.email(),
    "randomExampleEmail": lambda f: f.safe_email(),
    "randomUserName": lambda f: f.user_name(),
    "randomUrl": lambda f: f.url(),
    # files and directories
    "randomFileName": lambda f: f.file_name(),
    "randomFileType": lambda f: f.mime_type().split("/")[0],
    "randomFileExt": lambda f: f.file_extension(),
    "randomCommonFileName": lambda f: f.file_name(category="office"),
    "randomCommonFileType": lambda f: _pick(f, COMMON_FILE_TYPES),
    "randomCommonFileExt": lambda f: f.file_extension(category="office"),
    "randomFilePath": lambda f: f"{_directory(f)}/{f.file_name()}",
    "randomDirectoryPath": _directory,
    "randomMimeType": lambda f: f.mime_type(),
    # stores
    "randomPrice": lambda f: f"{f.random_int(0, 100_000) / 100:.2f}",
    "randomProduct": lambda f: _title(f, "noun"),
    "randomProductAdjective": lambda f: _title(f, "adjective"),
    "randomProductMaterial": lambda f: _title(f, "noun"),
    "randomProductName": lambda f: f"{_title(f, 'adjective')} {_title(f, 'noun')}",
    "randomDepartment": lambda f: _title(f, "noun"),
    # grammar
    "randomNoun": lambda f: f.word(part_of_speech="noun"),
    "randomVerb": lambda f: f.word(part_of_speech="verb"),
    "randomIngverb": _ingverb,
    "randomAdjective": lambda f: f.word(part_of_speech="adjective"),
    "randomWord": lambda f: f.word(),
    "randomWords": lambda f: " ".join(f.words(f.random_int(2, 5))),
    "randomPhrase": _hacker_phrase,
    # lorem ipsum
    "randomLoremWord": lambda f: f.word(ext_word_list=LATIN),
    "randomLoremWords": lambda f: " ".join(f.words(3, ext_word_list=LATIN)),
    "randomLoremSentence": lambda f: f.sentence(ext_word_list=LATIN),
    "randomLoremSentences": lambda f: _lorem_sentences(f, 2, 6, " "),
    "randomLoremParagraph": lambda f: f.paragraph(nb_sentences=3, ext_word_list=LATIN),
    "randomLoremParagraphs": lambda f: "\n".join(
        f.paragraphs(3, ext_word_list=LATIN)  # faker.js joins with "\n \r"
    ),
    "randomLoremText": lambda f: f.text(ext_word_list=LATIN),
    "randomLoremSlug": lambda f: "-".join(f.words(3, ext_word_list=LATIN)),
    "randomLoremLines": lambda f: _lorem_sentences(f, 1, 5, "\n"),
}
