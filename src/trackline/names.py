"""Readable random run names such as ``amber-otter-417``.

A name is ``<adjective>-<noun>-<number>``: a lower-case adjective and noun from the lists
below and a number from 0 to 999, at most :data:`MAX_RUN_NAME_LENGTH` characters long.
"""

from __future__ import annotations

import random

__all__ = ["ADJECTIVES", "MAX_RUN_NAME_LENGTH", "NOUNS", "generate_run_name"]

#: The longest name :func:`generate_run_name` returns.
MAX_RUN_NAME_LENGTH = 20

#: Adjectives, lower case, at most 7 letters each.
ADJECTIVES: tuple[str, ...] = (
    "agile", "amber", "ancient", "aqua", "arctic", "ashen", "autumn", "azure",
    "bold", "brave", "breezy", "bright", "brisk", "bronze", "calm", "candid",
    "chipper", "clever", "cobalt", "cosmic", "cozy", "crimson", "crisp", "curious",
    "dapper", "daring", "dawn", "deft", "dusky", "eager", "early", "earnest",
    "elastic", "elegant", "emerald", "fabled", "festive", "fiery", "fluffy", "frosty",
    "gentle", "giant", "gilded", "glad", "golden", "gleeful", "grand", "hardy",
    "hazel", "honest", "humble", "icy", "indigo", "ivory", "jade", "jolly",
    "keen", "kind", "lively", "lucky", "lunar", "mellow", "merry", "mighty",
    "misty", "modest", "nimble", "noble", "ochre", "olive", "patient", "plucky",
    "polar", "proud", "quick", "quiet", "radiant", "rapid", "rustic", "sable",
    "scarlet", "serene", "silent", "silver", "sleek", "snowy", "solar", "spry",
    "steady", "stellar", "sturdy", "sunny", "swift", "tidy", "topaz", "tender",
    "vivid", "wild", "warm", "wise", "witty", "zesty",
)  # fmt: skip

#: Nouns (animals, plants, places, weather), lower case, at most 7 letters each.
NOUNS: tuple[str, ...] = (
    "acorn", "alpaca", "alder", "anchor", "aspen", "badger", "basin", "beacon",
    "beaver", "birch", "bison", "bluff", "brook", "canyon", "caribou", "cedar",
    "cliff", "comet", "condor", "coral", "cougar", "coyote", "crane", "creek",
    "cypress", "delta", "dingo", "dolphin", "dune", "eagle", "egret", "elk",
    "falcon", "fern", "ferret", "finch", "fjord", "fox", "gazelle", "geyser",
    "glacier", "grove", "gull", "harbor", "hare", "hawk", "heron", "ibex",
    "iris", "jackal", "jaguar", "juniper", "kestrel", "koala", "lagoon", "lark",
    "lemur", "lichen", "lynx", "magpie", "maple", "marmot", "marten", "meadow",
    "mesa", "moose", "moss", "narwhal", "newt", "oak", "ocelot", "orca",
    "osprey", "otter", "owl", "panda", "pebble", "pelican", "pine", "plover",
    "puffin", "quail", "raven", "reef", "ridge", "robin", "salmon", "sparrow",
    "spruce", "stork", "summit", "swan", "tapir", "thistle", "thrush", "tundra",
    "valley", "walrus", "willow", "wombat", "wren", "yak", "zebra",
)  # fmt: skip

_random = random.SystemRandom()


def generate_run_name() -> str:
    """A random name ``<adjective>-<noun>-<0..999>`` of at most 20 characters."""
    name = ""
    for _ in range(10):
        name = f"{_random.choice(ADJECTIVES)}-{_random.choice(NOUNS)}-{_random.randrange(1000)}"
        if len(name) <= MAX_RUN_NAME_LENGTH:
            return name
    return name[:MAX_RUN_NAME_LENGTH]
