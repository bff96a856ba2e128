import random

import pytest
import tiktoken

from tokenizer import EOT, PAT, load_tokenizer, merge_word, read_ranks, save_tokenizer, split_text, train_bpe

# child-directed speech as the corpora transcribe it, English and BabyView's Spanish
CORPUS = [
    "look at the doggy!", "where's the ball?", "you're so big.", "do you want more milk?",
    "that's a kitty, it's a kitty cat.", "oh no, the ball fell down", "can you say ball? ball!",
    "¿Dónde está la pelota?", "¡Mira el perrito!", "mamá está aquí, mi niño.", "¿quieres más leche?",
    "one, two, three... 123 blocks", "we'll go outside at 10:30", "I'm gonna get you  —  got you!",
    "  bye bye   daddy  ", "night night 🌙 ❤️", "peek-a-boo!\n\nwhere did you go?",
] * 5

SAMPLES = [
    "", "hello world", "The cat's toy, isn't it? They'll see; we've got it!",
    "¿Dónde está el niño? ¡Mamá! Ñandú, pingüino, corazón",
    "mama\u0301 esta\u0301 aqui\u0301",  # NFD: combining accents
    "emoji 👨‍👩‍👧 ❤️ 🐶🐶 👍🏽 🇪🇸",  # ZWJ sequence, variation selector, skin tone, flag
    "tabs\tand\n\nnewlines \r\n   runs of spaces   \u00a0nbsp\u3000ideographic  ",
    "digits 1 12 123 1234 1234567 3.14 -42 ١٢٣",
    "小狗 собака κύων كلب 犬", "“quoted” ‘single’ … — « guillemets » ½ x² ™",
    "\x00\x1f\x7f\x85 controls", "under_score CamelCase ALLCAPS'S", "a" * 40 + "b",
]


def tiktoken_split(text):
    """The pieces tiktoken's regex cuts: with every substring of the text as a token (ranked by length),
    BPE merges each piece whole, so the tokens tiktoken returns are exactly its pieces."""
    data = text.encode('utf-8')
    k = max(len(p.encode('utf-8')) for p in split_text(text)) + 1
    subs = {data[i:j] for i in range(len(data)) for j in range(i + 2, min(i + k, len(data)) + 1)}
    ranks = {bytes([b]): b for b in range(256)}
    for s in sorted(subs, key=lambda s: (len(s), s)):
        ranks[s] = len(ranks)
    enc = tiktoken.Encoding('probe', pat_str=PAT, mergeable_ranks=ranks, special_tokens={})
    return [enc.decode_single_token_bytes(t) for t in enc.encode_ordinary(text)]


def reference_encode(text, ranks):
    """Slow BPE that replays the training merges in rank order on each Python-split piece."""
    vocab = {r: t for t, r in ranks.items()}
    out = []
    for piece in split_text(text):
        data = piece.encode('utf-8')
        word = [bytes([b]) for b in data]
        # a merge can only apply if its bytes occur in the piece
        for r in sorted({ranks[data[i:j]] for i in range(len(data)) for j in range(i + 2, len(data) + 1)
                         if data[i:j] in ranks}):
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] + word[i + 1] == vocab[r]:
                    merged.append(vocab[r])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        out += [ranks[t] for t in word]
    return out


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    ranks = train_bpe(CORPUS, 400)
    path = tmp_path_factory.mktemp('tok') / 'tokenizer.tiktoken'
    save_tokenizer(ranks, path)
    return ranks, path


def test_split_same_in_python_and_tiktoken():
    text = ' '.join(SAMPLES) + ' '.join(CORPUS[:17])
    pieces = [p.encode('utf-8') for p in split_text(text)]
    assert b''.join(pieces) == text.encode('utf-8')  # the split covers every character
    assert tiktoken_split(text) == pieces
    # Unicode letters and combining marks stay in the word; punctuation and emoji do not
    assert split_text("¿Dónde está mama\u0301?") == ['¿', 'Dónde', ' está', ' mama\u0301', '?']
    assert split_text("you're  12345 🐶🐶!") == ['you', "'re", ' ', ' 123', '45', ' 🐶🐶!']


def test_round_trip(trained):
    ranks, path = trained
    enc = load_tokenizer(path)
    for text in SAMPLES + CORPUS:
        ids = enc.encode_ordinary(text)
        assert enc.decode(ids) == text
        assert all(0 <= i < len(ranks) for i in ids)
    ids = enc.encode('hi' + EOT, allowed_special={EOT})
    assert ids[-1] == enc.eot_token == len(ranks) and enc.n_vocab == len(ranks) + 1


def test_tiktoken_replays_training_merges(trained):
    ranks, path = trained
    assert len(ranks) == 400 and sorted(ranks.values()) == list(range(400))
    assert all(ranks[bytes([b])] == b for b in range(256))
    enc = load_tokenizer(path)
    for text in CORPUS[:17] + SAMPLES:
        assert enc.encode_ordinary(text) == reference_encode(text, ranks), text
    # merges learned on the corpus compress it
    assert len(enc.encode_ordinary(' '.join(CORPUS))) < len(' '.join(CORPUS).encode()) / 2
    # random text over the corpus' own characters: unseen combinations of seen merges
    rng = random.Random(0)
    chars = sorted(set(''.join(CORPUS)))
    for _ in range(50):
        text = ''.join(rng.choices(chars, k=40))
        assert enc.encode_ordinary(text) == reference_encode(text, ranks), text


def test_incremental_counts_equal_naive_training():
    """The incremental pair counts must pick the same merges as recounting everything every step."""
    words = [list(p.encode('utf-8')) for text in CORPUS for p in split_text(text)]
    ranks = {bytes([b]): b for b in range(256)}
    vocab = list(ranks)
    while len(vocab) < 400:
        counts = {}
        for w in words:
            for pair in zip(w, w[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts or max(counts.values()) < 2:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))  # highest count, then smallest ids
        vocab.append(vocab[best[0]] + vocab[best[1]])
        ranks[vocab[-1]] = len(vocab) - 1
        words = [merge_word(w, best, len(vocab) - 1) for w in words]
    assert train_bpe(CORPUS, 400) == ranks and list(train_bpe(CORPUS, 400)) == list(ranks)


def test_deterministic(tmp_path):
    save_tokenizer(train_bpe(CORPUS, 350), tmp_path / 'a.tiktoken')
    save_tokenizer(train_bpe(iter(CORPUS), 350), tmp_path / 'b.tiktoken')  # a generator works too
    assert (tmp_path / 'a.tiktoken').read_bytes() == (tmp_path / 'b.tiktoken').read_bytes()


def test_tiny_corpus_stops_early():
    # 'aaaa' -> (a,a) occurs 3 times -> [aa, aa]: (aa,aa) occurs once, so nothing more is worth merging
    assert list(train_bpe(['aaaa'], 1000))[256:] == [b'aa']
    assert len(train_bpe(['ab'], 1000)) == 256  # no pair occurs twice
    assert len(train_bpe([], 300)) == 256
    ranks = train_bpe(CORPUS, 100_000)
    assert 256 < len(ranks) < 1000  # a few hundred distinct words cannot fill it
    with pytest.raises(ValueError, match='vocab_size'):
        train_bpe(CORPUS, 255)


def test_save_load(trained, tmp_path):
    ranks, path = trained
    assert read_ranks(path) == ranks
    lines = path.read_text().splitlines()
    assert len(lines) == len(ranks) and lines[97] == 'YQ== 97'  # tiktoken's format: base64(b'a') rank
    save_tokenizer(ranks, tmp_path / 'tok.tiktoken')
    save_tokenizer(ranks, tmp_path / 'tok.tiktoken')  # overwrite in place, no temp file left
    assert [p.name for p in tmp_path.iterdir()] == ['tok.tiktoken']
    enc = load_tokenizer(str(tmp_path / 'tok.tiktoken'))
    assert enc._mergeable_ranks == ranks and enc.name == 'tok'


@pytest.mark.parametrize('content, line, reason', [
    ('YQ== 0\nnot-base64! 1\n', 2, 'expected'),
    ('YQ== 0\nYg==\n', 2, 'expected'),
    ('YQ== 0\nYg== one\n', 2, 'expected'),
    ('YQ== 0\nYQ== 1\n', 2, 'already has rank'),
    ('YQ== 0\n\nYg== 0\n', 3, 'already used on line 1'),
    ('YQ== 0\nYg== 7\n', 2, 'outside'),
])
def test_bad_rank_file(tmp_path, content, line, reason):
    path = tmp_path / 'bad.tiktoken'
    path.write_text(content)
    with pytest.raises(ValueError, match=f'bad.tiktoken:{line}: .*{reason}'):
        load_tokenizer(path)


def test_rank_file_missing_bytes(tmp_path):
    path = tmp_path / 'few.tiktoken'
    save_tokenizer({bytes([b]): b for b in range(200)}, path)
    with pytest.raises(ValueError, match=r'few.tiktoken: byte 0xc8 has no rank \(56 bytes missing\)'):
        load_tokenizer(path)


def test_named_encodings(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such tokenizer file'):
        load_tokenizer(tmp_path / 'nope.tiktoken')
    try:  # works where tiktoken's cache holds gpt2; offline it must say so, not hang or crash obscurely
        enc = load_tokenizer('gpt2')
        assert enc.n_vocab == 50257
    except RuntimeError as e:
        assert "tiktoken's cache lacks the 'gpt2' encoding" in str(e)
