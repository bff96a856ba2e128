"""
What the nursery's people say, when, and how it sounds.

compose(rng, kind, age_months, speaker, **slots) -> (text, refs) draws one utterance from a small grammar of
child-directed speech: naming, colour and size words, counts, spatial phrases, actions, the child's body,
places, caregivers naming themselves, and talk that names nothing in view; refs say which word (index
into words(text)) names what. A kind's templates are drawn with Zipfian weights (the first is the
commonest), so word counts come out heavy-tailed as in caregiver speech, and each template has an age
in months from which it is used, so vocabulary and utterance length grow with the child.

speak() schedules a recording's utterances over its simulated frames, mostly about what the child
looks at or what just happened, and synthesises them: utterance_audio(text, voice) -> (samples,
word_times) at 16 kHz, where every word is a fixed sequence of 1-3 syllables derived from a hash of the
word (an onset burst, hiss or murmur, then a harmonic vowel with formant peaks), so a word sounds the
same each time, and alike across speakers up to pitch, vocal-tract length and speaking rate.
"""
import csv
import functools
import io
import re
from collections import Counter

import numpy as np

import world
from world import stable_int

SAMPLE_RATE = 16000

# ---------------------------------------------------------------------------------------------------
# words

PLURAL = {'foot': 'feet', 'puppy': 'puppies', 'kitty': 'kitties', 'ducky': 'duckies', 'paper': 'papers'}
# baby-talk names caregivers use beside the category word (Labeled-S words stay the most frequent)
NICKNAMES = {'cat': 'kitty', 'dog': 'doggy', 'duck': 'ducky', 'bear': 'teddy'}
VERBS = {  # base, -ing, past
    'roll': ('roll', 'rolling', 'rolled'), 'fall': ('fall', 'falling', 'fell'),
    'throw': ('throw', 'throwing', 'threw'), 'eat': ('eat', 'eating', 'ate'),
    'drink': ('drink', 'drinking', 'drank'), 'read': ('read', 'reading', 'read'),
    'push': ('push', 'pushing', 'pushed'), 'drive': ('drive', 'driving', 'drove'),
}
NUMBERS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six')
RELATIONS = {'on': 'on', 'under': 'under', 'next_to': 'next to', 'in': 'in'}
SIZE_WORDS = {'small': 'little', 'big': 'big'}
PERSON_WORDS = {'mom': 'mommy', 'dad': 'daddy'}


def plural(noun):
    return PLURAL.get(noun, noun + 's')


def words(text):
    """The spoken words of a text, lower case, punctuation dropped ("what's" is one word)."""
    return re.findall(r"[a-z']+", text.lower())

# ---------------------------------------------------------------------------------------------------
# what combines with what: the things each verb acts on, what goes on, under, in or next to what, and the
# combinations held out of every recording, shown and said never, for compositional tests

HELDOUT_SHARE = 0.2  # of the colour-object pairs
COLORED = [c for c, (_, _, cols) in world.CATEGORIES.items()  # things whose colour is named
           if len(cols) > 1 and c not in ('hand', 'foot', 'screen')]
ACTIONS = {  # verb: things it happens to, the prototype first (never held out)
    'roll': ('ball', 'car', 'apple', 'bottle', 'cup'),
    'fall': ('cup', 'ball', 'book', 'spoon', 'bear', 'block', 'duck'),
    'throw': ('ball', 'duck', 'block', 'bear', 'shoe'), 'eat': ('apple', 'banana'),
    'drink': ('cup', 'bottle'), 'read': ('book', 'paper'), 'push': ('car', 'block', 'bucket', 'chair'),
    'drive': ('car',)}
LANDMARKS = {'on': ('table', 'chair'), 'under': ('table', 'chair'), 'in': ('basket', 'bucket', 'crib'),
             'next_to': ('table', 'chair', 'basket', 'bucket', 'crib', 'dog', 'cat', 'bear')}
FIGURES = ('ball', 'cup', 'duck', 'bear', 'book', 'block', 'car', 'apple', 'shoe', 'bottle', 'cat')


def relation_triples():
    """Every (figure, relation, landmark) the world can show."""
    return [(f, r, m) for r, ms in LANDMARKS.items() for m in ms for f in FIGURES if f != m and fits(f, r, m)]


def fits(figure, rel, landmark):
    """Whether a figure fits on, under or in a landmark at their usual sizes."""
    h = world.CATEGORIES[figure][0]
    if rel == 'under':
        return h < world.UNDER[landmark] * world.CATEGORIES[landmark][0]
    if rel in ('on', 'in'):
        return h <= 56 and figure != 'cat' or (rel == 'in' and landmark == 'crib')
    return True


def choose_heldout(seed):
    """Combinations no recording ever shows or says, for compositional tests: ~20% of the colour-object
    pairs (at most 30% of any object's colours, each colour kept on two objects), for each verb of three
    or more things one thing that other verbs still act on, and three on/under/in triples."""
    rng = np.random.default_rng([seed, 1])
    pairs = [(c, cat) for cat in COLORED for c in world.CATEGORIES[cat][2]]
    held = []
    for i in rng.permutation(len(pairs)):
        c, cat = pairs[i]
        per_cat = sum(k == cat for _, k in held)
        cats_left = sum(c2 == c and (c2, k) not in held for c2, k in pairs)
        if (len(held) < HELDOUT_SHARE * len(pairs) and per_cat + 1 <= 0.3 * len(world.CATEGORIES[cat][2])
                and cats_left > 2):
            held.append((c, cat))
    verbs, used = [], set()
    for verb, objs in ACTIONS.items():
        cands = [o for o in objs[1:] if o not in used and sum(o in v for v in ACTIONS.values()) >= 2]
        if len(objs) >= 3 and cands:
            o = cands[int(rng.integers(len(cands)))]
            used.add(o)
            verbs.append((verb, o))
    rel = [r for r in relation_triples() if r[1] != 'next_to']  # things stand next to each other by chance
    triples = [rel[i] for i in rng.choice(len(rel), 3, replace=False)]
    return dict(color_object=sorted(map(list, held)), verb_object=sorted(map(list, verbs)),
                relation=sorted(map(list, triples)))


# ---------------------------------------------------------------------------------------------------
# templates: (first age in months, text). Slots: {N} noun, {Ns} plural noun, {C} colour, {S} size word,
# {n} number, {up} counting up to it, {R} relation, {M} landmark noun, {P} mommy/daddy, {B} place, {Y} body
# word. Each kind's list runs from the most to the least common; a kind named after a verb is about that
# event happening now.

TEMPLATES = {
    'name': [(0, 'look, a {N}!'), (0, '{N}!'), (0, "that's a {N}"), (0, 'see the {N}?'),
             (0, "there's the {N}"), (0, "it's a {N}"), (0, 'look at the {N}'),
             (9, "what's that? it's a {N}"), (9, 'do you see the {N}?'), (12, 'you like the {N}?'),
             (12, '{N}, can you say {N}?'), (18, "where's the {N}? there it is"), (18, 'oh, what a nice {N}'),
             (24, 'is that a {N}? yes, that is a {N}')],
    'color': [(0, 'a {C} {N}!'), (0, 'look at the {C} {N}'), (12, 'the {N} is {C}'), (0, '{C} {N}'),
              (12, "that's a {C} {N}"), (15, 'do you see the {C} {N}?'), (20, '{C}! the {N} is {C}'),
              (24, 'can you get the {C} {N}?')],
    'size': [(0, 'a {S} {N}'), (0, "that's a {S} {N}"), (12, 'look at the {S} {N}'),
             (18, 'wow, what a {S} {N}')],
    'count': [(0, '{n} {Ns}!'), (0, 'look, {n} {Ns}'), (15, 'how many {Ns}? {n} {Ns}!'),
              (18, '{up}, {n} {Ns}'), (20, 'there are {n} {Ns}'), (24, 'can you count the {Ns}? {up}!')],
    'one': [(0, '{n} {N}!'), (0, 'look, {n} {N}'), (12, 'just {n} {N}'), (18, 'there is {n} {N}')],
    'many': [(0, 'so many {Ns}'), (12, 'look at all the {Ns}'), (18, 'lots of {Ns}')],
    'spatial': [(0, 'the {N} is {R} the {M}'), (0, 'look, the {N} is {R} the {M}'), (12, '{N} {R} the {M}'),
                (18, "where's the {N}? {R} the {M}!"), (24, 'is the {N} {R} the {M}?')],
    'roll': [(0, 'the {N} is rolling'), (0, 'roll the {N}!'), (0, "it's rolling"), (12, 'there goes the {N}'),
             (18, 'you rolled the {N}')],
    'fall': [(0, 'uh oh, the {N} fell'), (0, 'the {N} fell down'), (0, 'oops, it fell'),
             (12, 'boom! the {N} fell')],
    'throw': [(0, 'throw the {N}!'), (0, 'you threw the {N}'), (12, "don't throw the {N}"),
              (18, 'wow, you can throw the {N}')],
    'eat': [(0, 'eat your {N}'), (0, 'yum, {N}'), (0, 'are you eating the {N}?'),
            (12, 'mmm, is the {N} yummy?'), (18, "you're eating a {N}")],
    'drink': [(0, 'drink from your {N}'), (0, 'your {N}'), (12, "you're drinking from the {N}"),
              (18, 'all gone')],
    'read': [(0, "let's read the {N}"), (0, 'read the {N}'), (12, "we're reading a {N}"),
             (12, 'turn the page'), (18, 'you want to read the {N}?')],
    'push': [(0, 'push the {N}'), (0, "you're pushing the {N}"), (0, 'push it, push it'),
             (12, 'the {N} is moving')],
    'drive': [(0, 'the {N} is driving'), (0, 'vroom, drive the {N}'), (12, 'look at the {N} go'),
              (12, 'beep beep, a {N}')],
    'hidden': [(0, 'where did the {N} go?'), (0, "where's the {N}?"), (12, 'is the {N} gone?'),
               (12, 'where is it?')],
    'found': [(0, 'there it is!'), (0, "there's the {N}!"), (12, 'peekaboo, {N}!'),
              (12, 'here comes the {N}')],
    'person': [(0, 'look at {P}'), (0, "hi baby, it's {P}"), (0, '{P} is here'), (0, 'can you see {P}?'),
               (12, "where's {P}? here i am!"), (12, '{P} loves you')],
    'body': [(0, 'your {Y}'), (0, 'look at your {Y}'), (6, 'clap your {Y}'), (12, 'those are your {Y}'),
             (18, 'where are your {Y}? there they are')],
    'place': [(0, 'look at the {B}'), (0, 'on the {B}'), (12, "that's the {B}"), (18, 'this is the {B}')],
    'absent': [(0, "where's your {N}?"), (0, 'do you want your {N}?'), (12, "let's go get your {N}"),
               (18, 'the {N} is in the other room'), (24, "we'll find the {N} later")],
    'chat': [(0, 'good job'), (0, 'yeah'), (0, 'okay'), (0, 'hi baby'), (0, 'uh oh'), (0, "that's right"),
             (0, 'yes'), (0, 'oh wow'), (0, 'what do you see?'), (0, 'peekaboo!'), (0, 'i love you'),
             (0, 'are you hungry?'), (0, 'time for a nap'), (0, 'all done'), (0, "let's go"),
             (0, 'come here'), (0, "who's a good baby?"), (0, 'so big!'), (0, 'night night'),
             (0, 'thank you'), (0, 'no no'), (0, 'are you tired?'), (0, "let's change your diaper"),
             (0, 'you are so silly'), (6, "what's that?"), (6, 'can you do it?'), (9, 'bye bye'),
             (9, 'be careful'), (9, 'good morning'), (12, "let's clean up"), (12, 'do you want more?'),
             (12, 'what are you doing?'), (12, 'say thank you'), (12, 'one more time'),
             (15, "it's time for lunch"), (15, 'are you all done?'), (18, 'can you help me?'),
             (18, "let's put it back"), (18, 'what do you want to do?'), (18, "it's a sunny day"),
             (20, 'we are going to see grandma'), (20, 'what a big girl'),
             (24, 'do you remember what we did yesterday?'), (24, 'first we eat, then we play'),
             (24, "you're getting so big"), (24, 'what color is it?'),
             (28, 'should we go outside after lunch?'), (28, "i think it's time for your bath"), (0, 'hello'),
             (0, 'oh no'), (0, 'there you go'), (0, "you're okay"), (0, 'shh, shh'), (0, 'such a happy baby'),
             (6, 'do you want to sit up?'), (6, "let's get you dressed"), (9, 'give me a kiss'),
             (9, 'wave bye bye'), (12, "let's wash your face"), (12, 'put on your socks'),
             (12, "it's bath time"), (12, 'sing a song with me'), (12, 'what does the cow say? moo'),
             (15, "let's go for a walk"), (15, 'we need to brush your teeth'), (18, 'can you find it?'),
             (18, 'that was fun'), (18, 'are you ready for dinner?'), (20, "it's raining outside"),
             (20, 'you did it all by yourself'), (24, 'what did you have for breakfast?'),
             (24, 'we have to wait our turn'), (28, 'tomorrow we are going to the park'),
             (28, 'do you want to help me cook?'), (30, 'maybe we can call grandpa tonight')],
}
# the child's own speech: babbling, single words, then two- and three-word combinations
CHILD = {
    'babble': [(8, 'baba'), (8, 'dada'), (9, 'mama'), (10, 'dada ba')],
    'word': [(12, '{N}!'), (12, 'uh oh'), (12, 'mama'), (12, 'no'), (13, 'more'), (13, 'up'), (14, 'hi'),
             (14, 'bye bye'), (15, 'dada')],
    'two': [(18, '{C} {N}'), (18, 'more {N}'), (18, 'my {N}'), (19, '{N} gone'), (20, 'bye {N}'),
            (20, 'look {N}')],
    'three': [(24, 'i want {N}'), (24, 'where {N} go?'), (26, 'look mommy, {N}!'), (26, 'i did it'),
              (28, "that's my {N}")],
}


def choose(rng, items, age_months, slots=(), zipf=1.0):
    """A template usable at this age with these slots, the first ones most likely (weights 1/rank^zipf)."""
    ok = [t for a, t in items if a <= age_months and set(re.findall(r'\{(\w+)\}', t)) <= set(slots)]
    ok = ok or [t for _, t in items if set(re.findall(r'\{(\w+)\}', t)) <= set(slots)] or ['yeah']
    w = 1.0 / np.arange(1, len(ok) + 1) ** zipf
    return ok[int(rng.choice(len(ok), p=w / w.sum()))]


def fill(template, slots):
    """Fill a template's slots. Returns (text, refs): one ref {'i': word index, 'word', 'slot'} per
    word a slot produced, plus the ref info the caller passed for that slot (slots[k] may be a
    (text, info) pair, e.g. ('ball', {'role': 'object', 'id': 'ball1'}))."""
    out, refs, i = [], [], 0
    for part in re.split(r'(\{\w+\})', template):
        m = re.fullmatch(r'\{(\w+)\}', part)
        if m:
            value = slots[m.group(1)]
            text, info = value if isinstance(value, tuple) else (value, None)
            for w in words(text):
                if info is not None:
                    refs.append(dict(info, i=i, word=w))
                i += 1
            out.append(text)
        else:
            i += len(words(part))
            out.append(part)
    return ''.join(out), refs


def compose(rng, kind, age_months, speaker='mom', **slots):
    """One utterance of a kind with its slots filled. Returns (text, refs)."""
    table = CHILD if speaker == 'child' else TEMPLATES
    # chat's templates flatter than Zipf's 1.2: at 1.2, 'good job' alone was a tenth of everything said
    template = choose(rng, table[kind], age_months, slots, zipf=0.5 if kind == 'chat' else 1.0)
    return fill(template, slots)

# ---------------------------------------------------------------------------------------------------
# voices and the per-word sound pattern

# vowel formants F1, F2, F3 in Hz for an adult female vocal tract (Peterson & Barney 1952, rounded)
VOWELS = [(310, 2790, 3310), (430, 2480, 3070), (610, 2330, 2990), (860, 2050, 2850), (850, 1220, 2810),
          (590, 920, 2710), (470, 1160, 2680), (370, 950, 2670), (760, 1400, 2780), (500, 1640, 2780)]
# pitch (Hz), vocal-tract scale (formants x), speaking rate (x); caregivers' pitch raised as in
# child-directed speech (Fernald 1989), the child's much higher with a short tract
VOICES = {'mom': (235.0, 1.0, 1.0), 'dad': (130.0, 0.85, 0.92), 'child': (320.0, 1.25, 0.8)}


def voice(speaker, family=''):
    """A speaker's voice, varied per family so two mothers do not sound alike."""
    f0, tract, rate = VOICES.get(speaker, VOICES['mom'])
    h = stable_int('voice', speaker, family)
    return (round(f0 * (0.9 + 0.2 * (h % 1000) / 1000), 1),
            round(tract * (0.95 + 0.1 * (h // 1000 % 1000) / 1000), 3),
            round(rate * (0.92 + 0.16 * (h // 10 ** 6 % 1000) / 1000), 3))


def syllables(word):
    """The fixed syllable plan of a word: [(onset, onset_hz, vowel, vowel_seconds, stress)]."""
    h = stable_int('word', word)
    if len(word) <= 4:  # 'ball'
        n = 1
    elif len(word) <= 7:  # 'apple'
        n = 2
    else:  # 'computer'
        n = 3
    plan = []
    for k in range(n):
        h, a = divmod(h, 4)
        h, b = divmod(h, 8)
        h, v = divmod(h, len(VOWELS))
        h, d = divmod(h, 5)
        onset = ('none', 'stop', 'fric', 'nasal')[a]
        plan.append((onset, 1800 + 600 * b, v, 0.09 + 0.018 * d, k == 0))
    return plan


def _band_noise(rng, n, centre, width):
    """White noise filtered to a Gaussian band (a fricative or a stop burst)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    out = np.fft.irfft(spec * np.exp(-0.5 * ((f - centre) / width) ** 2), n)
    return out / (np.abs(out).max() + 1e-9)


def _ramp(n, attack, release):
    env = np.ones(n)
    a, r = min(n // 2, int(attack * SAMPLE_RATE)), min(n // 2, int(release * SAMPLE_RATE))
    env[:a] = np.sin(np.linspace(0, np.pi / 2, a)) ** 2
    env[n - r:] = np.cos(np.linspace(0, np.pi / 2, r)) ** 2
    return env


def _harmonics(f0_contour, formants, max_hz=5000.0):
    """Sum of harmonics of a gliding f0, each weighted by a resonance curve at the formants."""
    phase = 2 * np.pi * np.cumsum(f0_contour) / SAMPLE_RATE
    f0 = float(f0_contour.mean())
    k = np.arange(1, int(max_hz // f0) + 1)
    fk = k * f0
    amp = sum(a / (1 + ((fk - F) / (60 + 0.06 * F)) ** 2) for F, a in zip(formants, (1.0, 0.7, 0.3)))
    amp = amp / np.sqrt(k)  # glottal spectral tilt
    return (amp[:, None] * np.sin(k[:, None] * phase[None, :])).sum(0)


@functools.lru_cache(maxsize=8192)
def word_audio(word, vox, rise=False):
    """float32 samples of one word in one voice; rise=True lifts the pitch at the end (a question)."""
    f0, tract, rate = vox
    rng = np.random.default_rng(stable_int('noise', word))  # the same hiss every time it is said
    plan = syllables(word)
    parts = []
    for k, (onset, hz, v, dur, stress) in enumerate(plan):
        if onset == 'stop':
            burst = 0.5 * _band_noise(rng, int(0.015 * SAMPLE_RATE), hz * tract, 600)
            parts += [np.zeros(int(0.02 / rate * SAMPLE_RATE)), burst]  # a closure, then a burst
        elif onset == 'fric':
            m = int(0.07 / rate * SAMPLE_RATE)
            parts.append(0.25 * _band_noise(rng, m, (hz + 1800) * tract, 900) * _ramp(m, 0.015, 0.01))
        elif onset == 'nasal':
            m = int(0.06 / rate * SAMPLE_RATE)
            hum = _harmonics(np.full(m, f0), (250 * tract, 2200 * tract, 2900 * tract))
            parts.append(0.12 * hum * _ramp(m, 0.01, 0.01))
        n = int(dur / rate * SAMPLE_RATE)
        last = k == len(plan) - 1
        glide = np.linspace(1.0, 1.3, n) if rise and last else np.linspace(1.04, 0.94, n)
        contour = f0 * (1.08 if stress else 1.0) * glide
        vowel = _harmonics(contour, tuple(F * tract for F in VOWELS[v]))
        parts.append(vowel / (np.abs(vowel).max() + 1e-9) * (1.0 if stress else 0.75) * _ramp(n, 0.02, 0.04))
        parts.append(np.zeros(int(0.012 * SAMPLE_RATE)))
    return (0.3 * np.concatenate(parts)).astype(np.float32)


WORD_GAP, COMMA_GAP = 0.05, 0.2  # seconds of near-silence between words, and at a comma


def utterance_audio(text, vox):
    """(float32 samples, [(start, end) per word in seconds]) of an utterance; questions rise at the end."""
    rise = text.rstrip().endswith('?')
    chunks = re.findall(r"[a-z']+|[,.!?]", text.lower())
    spoken = [i for i, c in enumerate(chunks) if c[0].isalpha()]
    parts, times, t = [], [], 0.0
    for j, c in enumerate(chunks):
        if not c[0].isalpha():
            if c == ',' and j != len(chunks) - 1:
                gap = int(COMMA_GAP * SAMPLE_RATE)
                parts.append(np.zeros(gap, np.float32))
                t += gap / SAMPLE_RATE
            continue
        a = word_audio(c, vox, rise and j == spoken[-1])
        times.append((round(t, 3), round(t + len(a) / SAMPLE_RATE, 3)))
        gap = int(WORD_GAP * SAMPLE_RATE) if j != spoken[-1] else 0
        parts += [a, np.zeros(gap, np.float32)]
        t += (len(a) + gap) / SAMPLE_RATE
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), times


def room_noise(rng, seconds, outdoor=False):
    """Low, slightly coloured noise for the whole recording: a real microphone is never silent."""
    n = int(round(seconds * SAMPLE_RATE))
    x = rng.standard_normal(n + 63).astype(np.float32)
    kernel = np.exp(-np.arange(64) / (20.0 if outdoor else 8.0)).astype(np.float32)  # one-pole-like low-pass
    x = np.convolve(x, kernel / kernel.sum(), mode='valid')[:n]
    x *= (0.02 if outdoor else 0.008) / (x.std() + 1e-9)
    hum = 0.001 * np.sin(2 * np.pi * 100.0 * np.arange(n) / SAMPLE_RATE)  # mains hum, indoors mostly
    return (x + (0.3 if outdoor else 1.0) * hum).astype(np.float32)


def thump(seconds=0.15):
    """A soft low knock: something landing on the floor."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.25 * np.sin(2 * np.pi * 90 * t) * np.exp(-t * 30)).astype(np.float32)

# ---------------------------------------------------------------------------------------------------
# who says what when: the caregiver talks about what the child is looking at, what just happened, and
# (a third or more of the time) about nothing in view, as in real infant-directed speech, where most
# utterances do not name a visible object (Yurovsky et al. 2013; CVCL's SAYCam utterances)

BODY_WORDS = {'hand': ('hands', 'fingers', 'hand'), 'foot': ('feet', 'toes', 'foot')}
EVENT_KINDS = ('roll', 'fall', 'throw', 'eat', 'drink', 'read', 'push', 'drive')
# talked about when not in view; not 'toy', which names the ring-stacker in view (the word learnt for it)
ANYWHERE = ('ball', 'cup', 'book', 'duck', 'car', 'cat', 'dog', 'apple', 'bottle', 'shoe', 'block', 'bear',
            'banana', 'spoon', 'blanket', 'milk', 'juice')


def child_share(age_months):
    """Share of the child's own utterances: none before babbling, then rising with age."""
    if age_months < 8:
        return 0.0
    if age_months < 12:
        return 0.04
    if age_months < 18:
        return 0.08
    return 0.14


def _noun(rng, obj, plural_form=False):
    word = obj['category']
    if word in NICKNAMES and rng.random() < 0.15:
        word = NICKNAMES[word]
    if plural_form:
        word = plural(word)
    return word, dict(role='object', id=obj['id'], category=obj['category'])


def counting(rng, age, ep, focus, same, vis):
    """Options that count the things of the focus' kind in view: always for a play episode's group when all of
    it is in view (one to six: caregivers count small sets, Mix 2009), now and then for any 2-6 alike."""
    group = ep.get('group') or ()
    whole = focus['id'] in group and len(same) == len(group) and all(vis.get(i, 0) >= 0.5 for i in group)
    if not whole and not 2 <= len(same) <= 6:
        return []
    weight = 6.0 if whole else 0.15 + 0.7 * (age >= 15)
    n = (NUMBERS[len(same)], dict(role='count', id=focus['id'], category=focus['category']))
    if len(same) == 1:
        return [(weight, 'one', dict(N=_noun(rng, focus), n=n))]
    Ns = (_noun(rng, focus, True)[0], dict(role='object', id=focus['id'], ids=[o['id'] for o in same],
                                            category=focus['category']))
    out = [(weight, 'count', dict(Ns=Ns, n=n, up=', '.join(NUMBERS[1:len(same) + 1])))]
    if len(same) >= 3:
        out.append((0.3, 'many', dict(Ns=Ns)))
    return out


def options(rng, age, speaker, ep, scene, vis, lf, focus_id, gazed=None, heard=None):
    """Candidate (weight, kind, slots) for the next utterance, given the frame's scene and visibility,
    (gazed) the thing the speaker has been looking at for half a second or more, and (heard) how often each
    kind of thing has been named so far in the recording."""
    objs = [o for o in scene['objects'] if o['category'] not in ('hand', 'foot')]
    seen = [o for o in objs if vis.get(o['id'], 0) >= 0.5]
    out = []
    looked = next((o for o in seen if o['id'] == gazed), None)
    if looked is not None:  # she looks, then names what she looks at (Brooks & Meltzoff 2005)
        out.append((12.0, 'name', dict(N=_noun(rng, looked))))
    # the child's focus (nearest the centre of view) most often, as caregivers follow the child's gaze
    if seen:
        def off_centre(o):  # view px across from the middle of the view
            return abs((o['x'] - (0 if o['screen'] else scene['camera'][0])) - 160)
        focus = next((o for o in seen if o['id'] == focus_id), None)
        if focus is None:
            focus = min(seen, key=off_centre) if rng.random() < 0.6 else seen[int(rng.integers(len(seen)))]
        N = _noun(rng, focus)
        out.append((2.0 / (1 + (heard or {}).get(focus['category'], 0) / 2), 'name', dict(N=N)))
        others = sorted({o['category'] for o in seen} - {focus['category']})
        if others:  # some other kind in view, the less named the likelier (Masur 1997: mothers label
            # objects new to the child more than familiar ones)
            novelty = np.array([1.0 / (1 + (heard or {}).get(c, 0)) for c in others])
            kind = others[int(rng.choice(len(others), p=novelty / novelty.sum()))]
            other = next(o for o in seen if o['category'] == kind)
            out.append((3.0 * novelty.max(), 'name', dict(N=_noun(rng, other))))
        if focus['category'] in COLORED:
            C = (focus['color'], dict(role='color', id=focus['id']))
            out.append((0.15 + 0.5 * (age >= 12), 'color', dict(N=N, C=C)))
        if focus['size'] in SIZE_WORDS:
            S = (SIZE_WORDS[focus['size']], dict(role='size', id=focus['id']))
            out.append((0.3, 'size', dict(N=N, S=S)))
        out += counting(rng, age, ep, focus, [o for o in seen if o['category'] == focus['category']], vis)
    for fig, rel, lm, f0, f1 in ep['relations']:
        a = next((o for o in objs if o['id'] == fig), None)
        b = next((o for o in objs if o['id'] == lm), None)
        if a and b and f0 <= lf < f1 and vis.get(fig, 0) >= 0.3 and vis.get(lm, 0) >= 0.5:
            R = (RELATIONS[rel], dict(role='relation', id=fig, relation=rel, landmark=lm))
            out.append((0.3 + 1.0 * (age >= 15), 'spatial', dict(N=_noun(rng, a), R=R, M=_noun(rng, b))))
    for e in ep['events']:
        o = next((o for o in objs if o['id'] == e['object']), None)
        if e['type'] in EVENT_KINDS and e['start'] - 5 <= lf <= e['end'] + 10 and o is not None:
            out.append((3.0, e['type'], dict(N=_noun(rng, o))))
        if e['type'] == 'occlusion' and o is not None:
            if e['hidden_start'] <= lf <= e['hidden_end']:
                out.append((4.0, 'hidden', dict(N=_noun(rng, o))))
            elif e['hidden_end'] < lf <= e['hidden_end'] + 25 and vis.get(o['id'], 0) >= 0.5:
                out.append((4.0, 'found', dict(N=_noun(rng, o))))
    face = scene['face']
    if face and vis.get('face', 0) >= 0.3 and face['who'] == speaker:
        out.append((0.5, 'person', dict(P=(PERSON_WORDS[speaker], dict(role='person', who=speaker)))))
    body = [o for o in scene['objects'] if o['category'] in BODY_WORDS and vis.get(o['id'], 0) >= 0.3]
    if body:
        kinds = sorted({o['category'] for o in body})  # feet as often as hands, when both are in view
        kind = kinds[int(rng.integers(len(kinds)))]
        o = next(o for o in body if o['category'] == kind)
        word = BODY_WORDS[o['category']][int(rng.choice(3, p=[0.6, 0.15, 0.25]))]
        Y = (word, dict(role='body', id=o['id'], category=o['category']))
        out.append((3.5 / (1 + (heard or {}).get(kind, 0) / 2), 'body', dict(Y=Y)))
    bw = world.BACKGROUND_WORDS[scene['background']]
    # the place's own name most often ('room' rather than 'floor' in a room)
    B = (bw[0] if rng.random() < 0.85 else bw[-1], dict(role='place', category=scene['background']))
    arrived = lf < ep.get('new_place', 0)  # the first seconds somewhere new: where we are
    out.append((3.0 if arrived else 2.0 / (1 + (heard or {}).get(B[0], 0) / 4), 'place', dict(B=B)))
    referential = sum(w for w, _, _ in out)
    seen_cats = {o['category'] for o in seen}
    absent = [c for c in ANYWHERE if c not in seen_cats]
    cat = absent[int(rng.integers(len(absent)))]
    N = (cat, dict(role='object', id=None, category=cat))
    out.append((0.1 * referential + 0.08, 'absent', dict(N=N)))
    out.append((0.18 * referential + 0.25, 'chat', {}))
    return out, seen


def child_options(rng, age, seen):
    if age < 12:
        stage = 'babble'
    elif age < 18:
        stage = 'word'
    elif age < 24:
        stage = 'two'
    else:
        stage = 'three'
    if rng.random() < 0.3:  # the child still says simpler things
        stage = {'three': 'two', 'two': 'word', 'word': 'babble'}.get(stage, stage)
    slots = {}
    if seen:
        o = seen[int(rng.integers(len(seen)))]
        slots['N'] = _noun(rng, o)
        if o['category'] in COLORED:
            slots['C'] = (o['color'], dict(role='color', id=o['id']))
    return stage, slots


def in_view(ref, frames, vis, f0, f1):
    """Whether what a word names is in view for at least half of the utterance's frames."""
    fs = range(f0, f1 + 1)
    role = ref['role']
    if role == 'place':
        return ref['word'] in world.BACKGROUND_WORDS[frames[(f0 + f1) // 2]['background']]
    if role == 'person':
        hits = [bool(frames[f]['face']) and frames[f]['face']['who'] == ref['who']
                and vis[f].get('face', 0) >= 0.3 for f in fs]
    elif ref.get('id') is None:  # a thing named while none is in view ("where's your shoe?"), unless one is
        hits = [any(o['category'] == ref['category'] and vis[f].get(o['id'], 0) >= 0.3
                    for o in frames[f]['objects']) for f in fs]
    else:
        ids = ref.get('ids') or [ref['id']]
        hits = [max(vis[f].get(i, 0.0) for i in ids) >= 0.3 for f in fs]
    return bool(np.mean(hits) >= 0.5)


def gaze_of(frames, vis, f, speaker, fps):
    """(what the speaker's face, in view, looks at in frame f, for how many seconds it has) or (None, 0)."""
    face = frames[f]['face']
    if not face or face['who'] != speaker or vis[f].get('face', 0) < 0.5 or not face.get('gaze_id'):
        return None, 0.0
    g = f
    while g > 0 and frames[g - 1]['face'] and frames[g - 1]['face'].get('gaze_id') == face['gaze_id']:
        g -= 1
    return face['gaze_id'], (f - g) / fps


def speak(rng, rec, episodes, frames, vis, frame_ep, fps):
    """Schedule and synthesise a recording's speech. Returns (utterances as stored in the truth file,
    float32 audio track of the whole recording)."""
    age, n = rec['age_days'] / 30.44, len(frames)
    noise = [room_noise(rng, ep['n'] / fps, outdoor=ep['background'] in ('sand', 'road', 'ground'))
             for ep in episodes]
    audio = np.concatenate(noise)
    utts, t, last, heard = [], float(rng.uniform(0.3, 1.0)), None, Counter()
    while True:
        f = min(n - 1, int(t * fps))
        ep = episodes[frame_ep[f]]
        if rng.random() < child_share(age):
            speaker = 'child'
        elif rng.random() < 0.85:
            speaker = ep['speaker']
        else:  # the other caregiver
            speaker = {'mom': 'dad', 'dad': 'mom'}[ep['speaker']]
        focus_id = last['focus'] if last and rng.random() < 0.35 else None  # stay on the same thing a while
        gazed, lead = gaze_of(frames, vis, f, speaker, fps)
        opts, seen = options(rng, age, speaker, ep, frames[f], vis[f], f - ep['start'], focus_id,
                             gazed if lead >= 0.5 else None, heard)
        repeat_chance = 0.2 if age < 12 else 0.1
        if last and last['speaker'] == speaker and not last['again'] and rng.random() < repeat_chance:
            # the last utterance, said again
            text, kind, refs, again = last['text'], last['kind'], [dict(r) for r in last['refs']], True
        elif speaker == 'child':
            again = False
            kind, slots = child_options(rng, age, seen)
            text, refs = compose(rng, kind, age, 'child', **slots)
        else:
            again = False
            w = np.array([o[0] for o in opts])
            _, kind, slots = opts[int(rng.choice(len(opts), p=w / w.sum()))]
            text, refs = compose(rng, kind, age, speaker, **slots)
        wave, times = utterance_audio(text, voice(speaker, rec['child']))
        end = t + len(wave) / SAMPLE_RATE
        if end > n / fps - 0.2:
            break
        i0 = int(round(t * SAMPLE_RATE))
        audio[i0:i0 + len(wave)] += wave
        ws = words(text)
        if kind in VERBS and not again:  # the verb names the event going on
            target = next((r for r in refs if r['role'] == 'object'), None)
            refs += [dict(role='verb', verb=kind, id=target and target['id'], i=i, word=w)
                     for i, w in enumerate(ws) if w in VERBS[kind]]
        f0, f1 = int(t * fps), min(n - 1, int(end * fps))
        for r in refs:
            known = r.get('id') or r['role'] in ('place', 'person', 'object')
            r['in_view'] = in_view(r, frames, vis, f0, f1) if known else None
        refs.sort(key=lambda r: r['i'])
        fm = (f0 + f1) // 2
        named = any(r['in_view'] for r in refs if r['role'] in ('object', 'place', 'person', 'body'))
        focus = next((r['id'] for r in refs if r['role'] == 'object' and r.get('id')), None)
        looked = gazed if focus == gazed and not again else None
        utts.append(dict(start=round(t, 3), end=round(end, 3), speaker=speaker, text=text, kind=kind,
                         words=[[w, round(t + a, 3), round(t + b, 3)] for w, (a, b) in zip(ws, times)],
                         refs=refs, names_in_view=named, repeat=again, focus=focus, gaze=None,
                         gaze_lead=round(lead, 2) if looked else None, frame=fm,
                         scene=frames[fm], visible=vis[fm]))
        heard.update(r['category'] for r in refs if r['role'] in ('object', 'body') and r['in_view'])
        heard.update(r['word'] for r in refs if r['role'] == 'place')
        last = dict(text=text, kind=kind, speaker=speaker, focus=focus, again=again,
                    refs=[{k: v for k, v in r.items() if k != 'in_view'} for r in refs])
        t = end + 0.2 + float(rng.exponential(0.3))
    return utts, np.clip(audio, -1.0, 1.0)


def animate_faces(frames, utts, fps):
    """The speaking caregiver looks at what she names (joint attention) and moves her mouth in time
    with the syllables; frames' face dicts are changed in place."""
    n = len(frames)
    for u in utts:
        target = next((r['id'] for r in u['refs']
                       if r['role'] == 'object' and r.get('id') and r['in_view']), None)
        for f in range(max(0, int((u['start'] - 0.4) * fps)), min(n, int((u['end'] + 0.3) * fps) + 1)):
            face = frames[f]['face']
            if face is None or face['who'] != u['speaker']:
                continue
            o = next((o for o in frames[f]['objects'] if o['id'] == target), None)
            if o is not None:
                face['gaze_id'], face['gaze'] = target, world.centre(o)
            t = f / fps
            face['mouth_open'] = any(s <= t <= e and (t - s) % 0.2 < 0.12 for _, s, e in u['words'])
        mid = frames[min(n - 1, int((u['start'] + u['end']) / 2 * fps))]['face']
        if target and mid and mid['who'] == u['speaker']:
            u['gaze'] = target  # the named thing, looked at by the speaker


def transcript(fmt, utts, video_name):
    """A recording's utterances written as an SRT, WebVTT, SAYCam CSV or generic CSV sidecar."""
    def stamp(t, sep):
        ms = int(round(t * 1000))
        return f'{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}'
    buf = io.StringIO()
    if fmt == 'srt':  # speaker as a "mom: ..." prefix, the common convention in SRT
        for i, u in enumerate(utts, 1):
            times = f"{stamp(u['start'], ',')} --> {stamp(u['end'], ',')}"
            buf.write(f"{i}\n{times}\n{u['speaker']}: {u['text']}\n\n")
    elif fmt == 'vtt':  # speaker as a WebVTT voice span
        buf.write('WEBVTT\n\n')
        for u in utts:
            times = f"{stamp(u['start'], '.')} --> {stamp(u['end'], '.')}"
            buf.write(f"{times}\n<v {u['speaker']}>{u['text']}\n\n")
    else:
        w = csv.writer(buf, lineterminator='\n')
        if fmt == 'saycam':  # SAYCam: start time only, as m:ss
            w.writerow(['Time', 'Utterance', 'Speaker', 'Video Name'])
            w.writerows([f"{int(u['start']) // 60}:{int(u['start']) % 60:02d}", u['text'], u['speaker'],
                         video_name] for u in utts)
        else:
            w.writerow(['start', 'end', 'text', 'speaker'])
            w.writerows([f"{u['start']:.3f}", f"{u['end']:.3f}", u['text'], u['speaker']] for u in utts)
    return buf.getvalue()


def summary(recordings):
    """Greppable 'key: value' lines on the speech of recordings, each a dict of age_days and utterances
    (speaker, names_in_view, words)."""
    utts = [u for r in recordings for u in r['utterances']]
    n, speakers = max(1, len(utts)), Counter(u['speaker'] for u in utts)
    words = Counter(w for u in utts for w in u['words'])

    def band(lo, hi):  # vocabulary and mean length of utterance in words, of an age band
        us = [u for r in recordings if lo <= r['age_days'] < hi for u in r['utterances']]
        mlu = sum(len(u['words']) for u in us) / max(1, len(us))
        return f"{len({w for u in us for w in u['words']})} types, MLU {mlu:.2f}"
    f = np.array(sorted(words.values(), reverse=True)[:200], float)
    slope = np.polyfit(np.log(np.arange(1, len(f) + 1)), np.log(f), 1)[0] if len(f) > 2 else float('nan')
    shares = ', '.join(f'{k} {v / n:.0%}' for k, v in speakers.most_common())
    bands = f'6-12 months: {band(0, 365)}; 24-32 months: {band(730, 10 ** 4)}'
    naming = sum(u['names_in_view'] for u in utts) / n
    return [f'utterances: {len(utts)} ({shares})',
            f'vocabulary: {len(words)} word types ({bands})',
            f'naming_in_view: {naming:.1%} of utterances',
            f'zipf_slope: {slope:.2f} (log frequency on log rank of the 200 commonest words; '
            'about -1 in language)']
