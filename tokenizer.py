"""
Byte-level BPE for a corpus' own transcripts, stored as a tiktoken rank file and run by tiktoken.

A child hears a few thousand word types, so a small vocabulary trained on the corpus fits it far better
than GPT-2's 50k (DESIGN.md section 3). Training follows GPT-2/minbpe: ranks 0..255 are the single
bytes, then every merge gets the next rank, so tiktoken's rank-ordered merging replays the training.
    ranks = train_bpe(texts, 4096); save_tokenizer(ranks, 'tokenizer.tiktoken')
    enc = load_tokenizer('tokenizer.tiktoken')   # or 'gpt2' if tiktoken's cache holds it
    enc.encode_ordinary(text), enc.decode(ids), enc.n_vocab, enc.eot_token
Text reaches the tokenizer in one form, training's and scoring's alike (text_form, normaliser):
    normalise = normaliser(text_form(lowercase=True)); enc.encode_ordinary(normalise('Floor'))  # ' floor'
A checkpoint carries its tokenizer (tokenizer_record): the rank file's text and SHA-1, or tiktoken's name,
so a model is always read with the tokenizer it was trained with, and a corpus re-prepared with another one
is refused (same_tokenizer). Nothing here touches the network: tiktoken's own encodings come from its
cache only.
"""
import base64
import hashlib
import heapq
import os
import re
from collections import Counter, defaultdict

import tiktoken

from atomic import atomic_write

EOT = '<|endoftext|>'  # special token, id len(ranks): one past the last rank

# The pre-split regex, GPT-2's shape: contractions | ' '? letters | ' '? 1-3 digits | ' '? other symbols |
# whitespace runs (the last space of a run before a word is left to the word). It must split identically
# in Python's re (training) and in tiktoken's Rust fancy-regex (encoding), so every class is listed as
# explicit code points: re has no \p{L}, and the two engines disagree on \w and \s (Rust's \w holds
# combining marks, ZWJ and connector punctuation; Python's holds superscripts and fractions; Python's \s
# holds \x1c-\x1f), which would cut NFD Spanish and emoji sequences differently. Checked against tiktoken
# on every code point, after a letter, after a space, before a digit and doubled.
# A "letter" is anything that is not whitespace, an ASCII digit, or a listed symbol, so every script and
# its combining marks group into words (Spanish for BabyView), while punctuation, emoji and their
# modifiers (ZWJ U+200D, variation selectors) group as symbols.
_SPACE = r'\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000'  # Unicode White_Space
_SYMBOL = (r'\x00-\x08\x0e-\x1f!-/:-@\[-`{-\x84\x86-\x9f\xa1-\xbf\xd7\xf7'  # ASCII, Latin-1: ¡ ¿ « » ° ...
           r'\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2bff'  # punctuation “ ” … ZWJ, symbols, arrows
           r'\u3001-\u303f\ufe00-\ufe0f\U0001f000-\U0001faff')  # CJK punctuation, variation selectors, emoji
PAT = (rf"'(?:[sdmt]|ll|ve|re)| ?[^{_SPACE}{_SYMBOL}0-9]+| ?[0-9]{{1,3}}| ?[{_SYMBOL}]+"
       rf"|[{_SPACE}]+(?![^{_SPACE}])|[{_SPACE}]+")
split_text = re.compile(PAT).findall  # str -> list of pre-tokens; BPE never merges across them


def merge_word(word, pair, new_id):
    """Replace every occurrence of pair in word (left to right, as tiktoken does for equal ranks)."""
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def train_bpe(texts, vocab_size):
    """Byte-level BPE over texts (any iterable of str). Returns {token bytes: rank}, ranks 0..n-1.
    vocab_size counts the ranks (256 bytes + merges); EOT adds one id on top, like GPT-2's 50256 + 1.
    Stops early when no pair occurs twice, so a tiny corpus gives fewer ranks than asked for."""
    if vocab_size < 256:
        raise ValueError(f'vocab_size must be >= 256 (the single bytes), got {vocab_size}')
    # transcripts repeat the same few thousand words, so BPE runs over unique pre-tokens weighted by count
    counts = Counter()
    for text in texts:
        counts.update(split_text(text))
    words = [list(w.encode('utf-8', 'replace')) for w in counts]  # 'replace': lone surrogates from JSON
    freqs = list(counts.values())

    vocab = [bytes([i]) for i in range(256)]  # id -> bytes; id == rank
    ranks = {b: i for i, b in enumerate(vocab)}
    pair_counts = defaultdict(int)  # pair -> occurrences in the corpus
    where = defaultdict(set)  # pair -> ids of words that contain it (may hold stale ids, checked on use)
    for wid, (word, freq) in enumerate(zip(words, freqs)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += freq
            where[pair].add(wid)
    # max-heap of (-count, pair) with lazy deletion: an entry is live only while its count is current.
    # Ties go to the smallest pair of ids, so training is deterministic whatever the dict order.
    heap = [(-c, pair) for pair, c in pair_counts.items()]
    heapq.heapify(heap)

    while len(vocab) < vocab_size and heap:
        neg_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair) != -neg_count:
            continue  # stale entry
        if -neg_count < 2:
            break  # merging a pair seen once only memorises the corpus
        token = vocab[pair[0]] + vocab[pair[1]]
        # should two different pairs ever spell the same bytes (not seen on real or random corpora),
        # they share one token: a rank file holds each token once and tiktoken merges by bytes
        new_id = ranks.get(token)
        if new_id is None:
            new_id = ranks[token] = len(vocab)
            vocab.append(token)
        # only words containing the pair change: recount their pairs
        changed = set()
        for wid in where.pop(pair):
            old = words[wid]
            new = merge_word(old, pair, new_id)
            if len(new) == len(old):
                continue
            freq = freqs[wid]
            for p in zip(old, old[1:]):
                pair_counts[p] -= freq
                changed.add(p)
            for p in zip(new, new[1:]):
                pair_counts[p] += freq
                where[p].add(wid)
                changed.add(p)
            words[wid] = new
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                del pair_counts[p]
    return ranks


def save_tokenizer(ranks, path):
    """Write tiktoken's rank file format ("base64(token) rank" per line), atomically."""
    by_rank = sorted(ranks.items(), key=lambda item: item[1])
    lines = [f'{base64.b64encode(token).decode()} {rank}\n' for token, rank in by_rank]
    atomic_write(path, ''.join(lines))


def read_ranks(path):
    """Read a rank file ourselves (tiktoken's loader may try to fetch URLs); errors name file and line."""
    with open(path, 'rb') as f:
        return parse_ranks(f, path)

def parse_ranks(rank_lines, path):
    """{token bytes: rank} of a rank file's lines (bytes); errors name `path` and the line."""
    ranks, lines = {}, {}
    for lineno, line in enumerate(rank_lines, 1):
        if not line.strip():
            continue
        try:
            token_b64, rank = line.split()
            token, rank = base64.b64decode(token_b64, validate=True), int(rank)
        except ValueError:  # also binascii.Error
            raise ValueError(f'{path}:{lineno}: expected "<base64 token> <rank>", '
                             f'got {line[:80]!r}') from None
        if token in ranks:
            raise ValueError(f'{path}:{lineno}: token {token!r} already has rank {ranks[token]}')
        if rank in lines:
            raise ValueError(f'{path}:{lineno}: rank {rank} already used on line {lines[rank]}')
        ranks[token], lines[rank] = rank, lineno
    # EOT takes id len(ranks), so the ranks must be exactly 0..n-1; every byte must be a token or
    # tiktoken cannot encode arbitrary text
    n = len(ranks)
    bad = [r for r in lines if not 0 <= r < n]
    if bad:
        raise ValueError(f'{path}:{lines[bad[0]]}: rank {bad[0]} outside 0..{n - 1}: ranks must be 0..n-1')
    missing = [i for i in range(256) if bytes([i]) not in ranks]
    if missing:
        raise ValueError(f'{path}: byte {missing[0]:#04x} has no rank ({len(missing)} bytes missing); '
                         'a byte-level rank file holds all 256 single bytes')
    return ranks


def encoding(ranks, name):
    """The tiktoken.Encoding of a byte-level rank table, with PAT and EOT."""
    return tiktoken.Encoding(name=name, pat_str=PAT, mergeable_ranks=ranks, special_tokens={EOT: len(ranks)})

def load_tokenizer(path_or_name):
    """A .tiktoken rank file -> tiktoken.Encoding with PAT and EOT; or a tiktoken name such as 'gpt2'."""
    path = os.fspath(path_or_name)
    if os.path.isfile(path):
        return encoding(read_ranks(path), os.path.splitext(os.path.basename(path))[0])
    if path in tiktoken.list_encoding_names():
        return cached_encoding(path)
    raise FileNotFoundError(f'{path}: no such tokenizer file, and not a tiktoken encoding '
                            f'({", ".join(tiktoken.list_encoding_names())})')

def cached_encoding(name):
    """One of tiktoken's own encodings, from tiktoken's cache only: its downloader is switched off while it
    loads, so nothing is fetched and nothing is written outside the output folder."""
    import tiktoken.load

    def offline(url):
        raise ConnectionError(f"{url} is not in tiktoken's cache, and babyvfm never downloads")
    download, tiktoken.load.read_file = tiktoken.load.read_file, offline
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # not cached: our ConnectionError; a bad cache: ValueError
        raise RuntimeError(
            f"tiktoken's cache lacks the '{name}' encoding ({type(e).__name__}: {e}). Run "
            f"tiktoken.get_encoding('{name}') once on a machine with network and copy its cache "
            "(TIKTOKEN_CACHE_DIR, default <tmp>/data-gym-cache), or train a corpus tokenizer.") from e
    finally:
        tiktoken.load.read_file = download

# ----------------------------------------------------------------------------- the text contract
# Every text the tokenizer sees passes normaliser(): prepare.py's utterances (and so the BPE's training),
# train.py's probe words and every text evaluate.py scores. The pre-split attaches a space to the word after
# it, so inside an utterance every word is ' word'. An utterance encoded without a leading space would make
# its first word a second, rarer spelling, and a word scored bare is a token sequence training never showed
# at a word's start: the bare 'floor' is f|l|oor, the heard ' floor' one token (12 of the 22 Labeled-S words
# split that way; scored bare, a step-1000 checkpoint read 0.447 on Labeled-S, scored as heard 0.644).

def text_form(lowercase, leading_space=True):
    """How a corpus' texts were normalised before encoding: meta.json's and a checkpoint's 'text_form'."""
    return dict(lowercase=bool(lowercase), leading_space=bool(leading_space))

def recorded_text_form(form, lowercase):
    """A text_form as meta.json or a checkpoint records it; where none is (an older prepare.py), the form of
    that time: utterances encoded bare."""
    if form is not None:
        return form
    return text_form(lowercase, leading_space=False)

def corpus_text_form(meta):
    """A prepared corpus' text_form."""
    return recorded_text_form(meta.get('text_form'), meta.get('args', {}).get('lowercase', True))

def normaliser(form):
    """text -> the string the tokenizer encodes: whitespace collapsed, lower-cased if the form says so, and
    the leading space a word has inside an utterance. An empty text stays empty (the text-blind control)."""
    def normalise(text):
        words = text.lower().split() if form['lowercase'] else text.split()
        if not words:
            return ''
        if form['leading_space']:
            return ' ' + ' '.join(words)
        return ' '.join(words)
    return normalise

def tokenizer_record(path_or_name):
    """What a checkpoint keeps of its tokenizer: {'name'} of a tiktoken encoding, or {'ranks', 'sha1'}: the
    rank file's text and its hash."""
    path = os.fspath(path_or_name)
    if path in tiktoken.list_encoding_names():
        return dict(name=path)
    with open(path, 'rb') as f:  # a missing rank file: FileNotFoundError
        data = f.read()
    parse_ranks(data.splitlines(), path)  # a damaged file is an error naming its line, here
    return dict(ranks=data.decode('ascii'), sha1=hashlib.sha1(data).hexdigest())

def record_tokenizer(record, where):
    """The Encoding a tokenizer_record describes; `where` (the checkpoint) names it in errors."""
    if 'name' in record:
        return load_tokenizer(record['name'])
    return encoding(parse_ranks(record['ranks'].encode('ascii').splitlines(), where), 'checkpoint')

def same_tokenizer(a, b):
    """True if two tokenizer_records describe one tokenizer."""
    return a.get('name') == b.get('name') and a.get('sha1') == b.get('sha1')
