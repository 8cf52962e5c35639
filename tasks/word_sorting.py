"""word_sorting: sort a list of words alphabetically (BIG-Bench Hard format)."""

import random

from tasks.base import Example, ReferenceTool, Task, compile_parser, normalize_spaces

PREFIX = "Sort the following words alphabetically: List: "

# A varied vocabulary: common and rare words, names, apostrophes, like the real lists.
WORDS = """
abbey abide absorb accolade acrobat adagio admiral aerosol affable afghan agrarian airfare alchemy
alcove alfalfa allegro almanac alpaca amber ambush anchor anemone angora anvil apropos aquarium
arbor arcade archer argon armada arsenal artichoke asbestos aspen astral atlas atrium auburn augur
avalanche avenue awning azure babble badger bagel bakery ballad bamboo banjo barley barnacle baroque
basil bassoon beacon bedlam beetle belfry benign beret bestow bicycle bison blazer blimp blossom
bobcat bonfire borough boulder bramble brisket bronze buckle buffalo bugle bungalow burrow butane
cabaret cactus calico camel canary candor canopy canyon caramel cardigan carnival cascade cashew
catalyst cavern cedar cello cement chalice chamois chapel chariot cheddar cherub chimney chisel
cider cinder citadel clarinet cobalt cobra cockpit coconut collage comet compass condor conifer
coral cornet corridor cottage coyote crayon crescent cricket crimson crocus crystal cuckoo cupola
curfew cutlass cypress dagger dahlia damsel decibel delta denim derby dervish desert dialect diamond
dingo dirigible doctrine dolphin domino dormouse dragon drizzle dugout dynamo eagle easel ebony
eclipse effigy eggplant elbow elixir ember emerald emporium enigma epoch equator ermine escrow
estuary ether exodus fable falcon fathom fennel ferret fiddle fiesta filament fjord flamingo flannel
flotilla fodder forage fossil foxglove fresco frigate fulcrum gable galaxy galleon gamut garnet
gazebo gecko geyser ginger glacier gondola gopher granite gravel griffin grotto guava gypsum
hacienda halibut hamlet harbor harpoon hazel helium hemlock heron hickory hologram hornet husky
hyacinth iceberg igloo impala indigo inkwell iris ivory jackal jaguar jasmine javelin jester jigsaw
jubilee juniper kayak kelp kernel kettle kiosk kiwi koala labyrinth lagoon lantern larch lattice
lava lemur lexicon lilac limerick linen llama lobster locust lotus lullaby lumber lynx macaw magenta
magnet mahogany mallet mango mantis marble marina marsh mastiff meadow medley mercury meteor mildew
minnow mirage mistral molasses monsoon mosaic mustang nebula nectar nomad nutmeg oasis obelisk
ocelot octave olive onyx opal orchid origami osprey otter oyster paddock pagoda palette panther
papyrus parable parsley pastel pavilion pebble pelican pendulum peony pepper perch petunia pewter
pharaoh pheasant piccolo pigment pilgrim pinnacle piston plankton plateau plaza plume polka poncho
poplar porcelain prairie prism puffin pumice quarry quartz quasar quill quince quiver radish raffle
rampart raven reef relic rhubarb riddle ripple rodeo rosemary ruby saffron sage salmon sapphire
satchel savanna scarab schooner scroll sequoia sherbet shingle sierra silo sonnet spindle squall
stallion starling stucco sundial swallow sycamore tabby talisman tamarind tandem tapestry tarragon
tavern teapot tempest terrace thicket thimble thistle thunder tiara timber topaz tornado toucan
trellis trident trombone tulip tundra turbine turquoise tycoon ukulele umber urchin utopia valley
vanilla velvet veranda vertex viaduct viola vortex wafer walrus warbler wasabi willow wombat wren
yacht yarrow yodel zenith zephyr zinnia zodiac you've shouldn't o'connell at&t mcdonald's
""".split()

PARSER = r'''
import re

def parse(question):
    """Strict: only the real task's wording, else ValueError."""
    # the list is words without capitals: a sentence added after it ("Then reverse them.") is another task
    m = re.fullmatch(r"\s*Sort the following words alphabetically: List:\s*([^\sA-Z]+(?:\s+[^\sA-Z]+)*)\s*", question)
    if not m:
        raise ValueError("not a word-sorting question")
    return {"words": m.group(1).split()}
'''

TOOL = '''
def sort_words(words):
    """Sorts words alphabetically; returns them joined by single spaces."""
    return " ".join(sorted(words))
'''

SOLVE = """
def solve(question):
    return sort_words(**parse(question))
"""


def generate_one(rng: random.Random) -> Example:
    n = rng.choice([2, 3, 3, 4, 5, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 20])
    words = rng.sample(WORDS, n)
    return Example(question=PREFIX + " ".join(words), answer=" ".join(sorted(words)))


ONSETS = "b c d f g h j k l m n p r s t v w z bl br ch cl cr dr fl gr pl pr sh st th tr".split()
VOWELS = "a e i o u ai ea ee oo ou".split()
CODAS = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng"]


def _pseudo_word(rng: random.Random) -> str:
    """A pronounceable made-up word, as English-looking as a real one (in no list of the code base)."""
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(rng.randint(1, 3)))


def edge_one(rng: random.Random) -> Example:
    """Longer lists of made-up words, English-looking, often sharing long prefixes."""
    stem = _pseudo_word(rng)
    words = []
    for _ in range(rng.randint(2, 40)):
        word = _pseudo_word(rng)
        words.append(stem + word if rng.random() < 0.4 else word)
    return Example(question=PREFIX + " ".join(words), answer=" ".join(sorted(words)))


TASK = Task(
    name="word_sorting",
    description="Sort a list of words alphabetically.",
    generate_one=generate_one,
    edge_one=edge_one,
    reference=ReferenceTool(
        entry="sort_words",
        description="Sorts a list of words alphabetically and returns them space-separated.",
        code=TOOL.strip() + "\n",
        direct=(PARSER + SOLVE).strip() + "\n",
        parse=compile_parser(PARSER),
    ),
    normalize=normalize_spaces,
)
