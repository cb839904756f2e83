"""Postman's 118 dynamic variables (`{{$randomInt}}`, `{{$guid}}`, ...): names and values.

The values come from Faker (see `fakedata.py`), which is imported on the first value drawn,
not at start-up: most collections never use a dynamic variable, and Faker's import alone
takes tens of milliseconds.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

# Postman's table (lib/superstring/dynamic-variables.js), without the "$".
NAMES: frozenset[str] = frozenset(
    {
        "guid",
        "isoTimestamp",
        "randomAbbreviation",
        "randomAbstractImage",
        "randomAdjective",
        "randomAlphaNumeric",
        "randomAnimalsImage",
        "randomAvatarImage",
        "randomBankAccount",
        "randomBankAccountBic",
        "randomBankAccountIban",
        "randomBankAccountName",
        "randomBitcoin",
        "randomBoolean",
        "randomBs",
        "randomBsAdjective",
        "randomBsBuzz",
        "randomBsNoun",
        "randomBusinessImage",
        "randomCatchPhrase",
        "randomCatchPhraseAdjective",
        "randomCatchPhraseDescriptor",
        "randomCatchPhraseNoun",
        "randomCatsImage",
        "randomCity",
        "randomCityImage",
        "randomColor",
        "randomCommonFileExt",
        "randomCommonFileName",
        "randomCommonFileType",
        "randomCompanyName",
        "randomCompanySuffix",
        "randomCountry",
        "randomCountryCode",
        "randomCreditCardMask",
        "randomCurrencyCode",
        "randomCurrencyName",
        "randomCurrencySymbol",
        "randomDatabaseCollation",
        "randomDatabaseColumn",
        "randomDatabaseEngine",
        "randomDatabaseType",
        "randomDateFuture",
        "randomDatePast",
        "randomDateRecent",
        "randomDepartment",
        "randomDirectoryPath",
        "randomDomainName",
        "randomDomainSuffix",
        "randomDomainWord",
        "randomEmail",
        "randomExampleEmail",
        "randomFashionImage",
        "randomFileExt",
        "randomFileName",
        "randomFilePath",
        "randomFileType",
        "randomFirstName",
        "randomFoodImage",
        "randomFullName",
        "randomHexColor",
        "randomIP",
        "randomIPV6",
        "randomImageDataUri",
        "randomImageUrl",
        "randomIngverb",
        "randomInt",
        "randomJobArea",
        "randomJobDescriptor",
        "randomJobTitle",
        "randomJobType",
        "randomLastName",
        "randomLatitude",
        "randomLocale",
        "randomLongitude",
        "randomLoremLines",
        "randomLoremParagraph",
        "randomLoremParagraphs",
        "randomLoremSentence",
        "randomLoremSentences",
        "randomLoremSlug",
        "randomLoremText",
        "randomLoremWord",
        "randomLoremWords",
        "randomMACAddress",
        "randomMimeType",
        "randomMonth",
        "randomNamePrefix",
        "randomNameSuffix",
        "randomNatureImage",
        "randomNightlifeImage",
        "randomNoun",
        "randomPassword",
        "randomPeopleImage",
        "randomPhoneNumber",
        "randomPhoneNumberExt",
        "randomPhrase",
        "randomPrice",
        "randomProduct",
        "randomProductAdjective",
        "randomProductMaterial",
        "randomProductName",
        "randomProtocol",
        "randomSemver",
        "randomSportsImage",
        "randomStreetAddress",
        "randomStreetName",
        "randomTransactionType",
        "randomTransportImage",
        "randomUUID",
        "randomUrl",
        "randomUserAgent",
        "randomUserName",
        "randomVerb",
        "randomWeekday",
        "randomWord",
        "randomWords",
        "timestamp",
    }
)
CLOCK_NAMES: frozenset[str] = frozenset(
    {"timestamp", "isoTimestamp", "randomDateFuture", "randomDatePast", "randomDateRecent"}
)


__all__ = ["CLOCK_NAMES", "NAMES", "DynamicValues", "needs_faker"]


_UUID_NAMES = frozenset({"guid", "randomUUID"})


def needs_faker(names: frozenset[str]) -> bool:
    """Whether drawing these dynamic variables imports Faker (only UUIDs do not)."""
    return bool(names - _UUID_NAMES)


def uuid4_text(bits: int) -> str:
    """A version-4 UUID string from 128 random bits (what uuid.UUID(int=, version=4) gives)."""
    n = bits & ~(0xF000 << 64) | (0x4000 << 64)  # version 4
    n = n & ~(0xC000 << 48) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class DynamicValues:
    """Draws dynamic-variable values; one Faker instance, created on first use."""

    NAMES = NAMES

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._faker: Faker | None = None
        self._lock = threading.Lock()  # the server may warm it up on a thread
        self._generators: Mapping[str, Callable[[Faker], str]] = {}
        self._random = random.Random(seed)  # for UUIDs; Faker keeps its own, seeded alike

    @property
    def faker(self) -> Faker:
        """The Faker instance (en_US), seeded; creating one takes tens of milliseconds."""
        if self._faker is None:
            with self._lock:
                if self._faker is None:
                    from faker import Faker

                    # Uniform picks, like faker.js's arrayElement; 10-30x faster than weighted.
                    fake = Faker("en_US", use_weighting=False)
                    fake.seed_instance(self.seed)  # instance-local Random even when unseeded
                    self._faker = fake
        return self._faker

    def warm_up(self) -> None:
        """Import Faker and build the instance now (call it off the event loop); draws nothing."""
        from postmock.templating import fakedata  # noqa: F401

        assert self.faker is not None

    def generate(self, name: str) -> str | None:
        """A fresh value for `name` (without `$`), or None for an unknown name."""
        if name in _UUID_NAMES:
            # The commonest dynamic variable, often in every response: no Faker needed.
            return uuid4_text(self._random.getrandbits(128))
        generator = self._generators.get(name)
        if generator is None:
            if name not in NAMES:
                return None
            from postmock.templating.fakedata import GENERATORS

            self._generators = GENERATORS  # looked up once, not imported per value
            generator = GENERATORS[name]
        return generator(self.faker)
