"""The words feeds write in dates: month names in the languages newswatch reads, and time zone
abbreviations. Plain tables, looked up by :mod:`.dates` with one dict access per word."""

from __future__ import annotations

__all__ = ["month_number", "regional_zone", "zone_minutes"]

# Full month names, January first: nominative and (where a language inflects) genitive forms,
# plus spellings feeds write without diacritics. Every prefix of three letters or more of a
# name also names its month, unless two months share it (French "jui": juin, juillet).
_MONTH_NAMES = {
    "en": ("january february march april may june "
           "july august september october november december"),
    "de": ("januar februar märz april mai juni "
           "juli august september oktober november dezember"),
    "fr": ("janvier février mars avril mai juin "
           "juillet août septembre octobre novembre décembre"),
    "es": ("enero febrero marzo abril mayo junio "
           "julio agosto septiembre octubre noviembre diciembre"),
    "it": ("gennaio febbraio marzo aprile maggio giugno "
           "luglio agosto settembre ottobre novembre dicembre"),
    "pt": ("janeiro fevereiro março abril maio junho "
           "julho agosto setembro outubro novembro dezembro"),
    "nl": ("januari februari maart april mei juni "
           "juli augustus september oktober november december"),
    "pl": ("styczeń luty marzec kwiecień maj czerwiec "
           "lipiec sierpień wrzesień październik listopad grudzień"),
    "pl-gen": ("stycznia lutego marca kwietnia maja czerwca "
               "lipca sierpnia września października listopada grudnia"),
    "ru": ("январь февраль март апрель май июнь "
           "июль август сентябрь октябрь ноябрь декабрь"),
    "ru-gen": ("января февраля марта апреля мая июня "
               "июля августа сентября октября ноября декабря"),
    "uk": ("січень лютий березень квітень травень червень "
           "липень серпень вересень жовтень листопад грудень"),
    "uk-gen": ("січня лютого березня квітня травня червня "
               "липня серпня вересня жовтня листопада грудня"),
    "be": ("студзень люты сакавік красавік травень чэрвень "
           "ліпень жнівень верасень кастрычнік лістапад снежань"),
    "be-gen": ("студзеня лютага сакавіка красавіка траўня чэрвеня "
               "ліпеня жніўня верасня кастрычніка лістапада снежня"),
    "el": ("ιανουάριος φεβρουάριος μάρτιος απρίλιος μάιος ιούνιος "
           "ιούλιος αύγουστος σεπτέμβριος οκτώβριος νοέμβριος δεκέμβριος"),
    "el-gen": ("ιανουαρίου φεβρουαρίου μαρτίου απριλίου μαΐου ιουνίου "
               "ιουλίου αυγούστου σεπτεμβρίου οκτωβρίου νοεμβρίου δεκεμβρίου"),
    "hu": ("január február március április május június "
           "július augusztus szeptember október november december"),
}  # fmt: skip
# Regional and unaccented spellings.
_MONTH_EXTRA = {
    "jänner": 1, "feber": 2, "marz": 3, "fevrier": 2, "aout": 8, "decembre": 12, "setiembre": 9,
    "pazdziernik": 10, "marco": 3,
}  # fmt: skip
# Abbreviations that are not prefixes of a full name, or whose prefix is ambiguous.
_MONTH_ABBREVIATIONS = {"mrz": 3, "mrt": 3, "juil": 7}


def _month_table() -> dict[str, int]:
    """Every name and unambiguous prefix (3+ letters) of a month name -> month number."""
    names: dict[str, int] = dict(_MONTH_EXTRA)
    for words in _MONTH_NAMES.values():
        for month, word in enumerate(words.split(), start=1):
            names[word] = month
    table: dict[str, int] = {}
    ambiguous: set[str] = set()
    for word, month in names.items():
        for end in range(3, len(word) + 1):
            prefix = word[:end]
            if table.setdefault(prefix, month) != month:
                ambiguous.add(prefix)
    for prefix in ambiguous:
        del table[prefix]
    table.update(names)
    table.update(_MONTH_ABBREVIATIONS)
    return table


_MONTHS = _month_table()

# Zone abbreviations seen in feeds -> minutes east of UTC. Ambiguous ones (IST: India,
# Ireland or Israel; AST: Atlantic or Arabia) are left out: an unknown zone gives no date.
_ZONES = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "WET": 0, "UCT": 0,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600, "NST": -210, "NDT": -150,
    "BST": 60, "WEST": 60, "CET": 60, "MET": 60, "MEZ": 60,
    "CEST": 120, "MEST": 120, "MESZ": 120, "EET": 120, "EEST": 180,
    "MSK": 180, "MSD": 240, "SAMT": 240, "YEKT": 300, "OMST": 360, "KRAT": 420,
    "IRKT": 480, "YAKT": 540, "VLAT": 600, "MAGT": 660,
    "PKT": 300, "HKT": 480, "SGT": 480, "AWST": 480, "JST": 540, "KST": 540,
    "ACST": 570, "AEST": 600, "ACDT": 630, "AEDT": 660, "NZST": 720, "NZDT": 780,
}  # fmt: skip


# Zone names that name a region rather than an offset (``ET``: Eastern Time, standard or
# daylight as the date falls): read with the zone database, DST included.
_REGIONAL_ZONES = {
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
    "PT": "America/Los_Angeles", "AT": "America/Halifax",
}  # fmt: skip


def regional_zone(name: str) -> str | None:
    """The IANA zone of an (upper-case) regional zone name such as ``ET``, or None."""
    return _REGIONAL_ZONES.get(name)


def month_number(word: str) -> int | None:
    """The month a (lower-case) month name or abbreviation names, or None."""
    return _MONTHS.get(word)


def zone_minutes(name: str) -> int | None:
    """Minutes east of UTC of an (upper-case) zone abbreviation, or None if unknown."""
    return _ZONES.get(name)
