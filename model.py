"""
The baby vision-language model: a ViT, a GPT decoder and a connector, built from one Block, with
three objectives weighted by the training config:
- contrastive (CVCL, Vong et al. 2024; CLIP, Radford et al. 2021): pooled image vs text embedding;
- captioning (BabyLLaVA, Wang et al. 2025; LLaVA): next-token loss on the utterance after an image prefix;
- temporal prediction (CPC, van den Oord et al. 2018): a causal transformer over the frames of a
  clip predicts the next frame's embedding, InfoNCE against the other frames of the batch.
Images go in as uint8 (B, H, W, 3) exactly as prepare.py stores them. Texts go in as rows
[eot, t1..tn, eot, pad...] with their lengths n (see text_batch), right-padded, so causal attention
never lets a real token see padding and no attention mask is needed.
"""
import math
from contextlib import nullcontext
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OBJECTIVES = ('contrastive', 'caption', 'temporal')
TOWERS = ('vision', 'text', 'connector', 'contrastive', 'temporal')
USES = {'contrastive': ('vision', 'text', 'contrastive'), 'caption': ('vision', 'connector', 'text'),
        'temporal': ('vision', 'temporal')}

READOUTS = ('similarity', 'nll')  # how a model scores a text for a picture (evaluate.py, train.py's probe)
DTYPES = ('float32', 'bfloat16', 'float16')  # the dtypes of autocast (autocast below)

# dense bf16 FLOP/s by device name, the first match wins (nanochat's get_peak_flops; NVIDIA's data sheets)
PEAK_FLOPS = {'H200 NVL': 836e12, 'H100': 989e12, 'H200': 989e12, 'A100': 312e12}

def readout_for(weights, readout='auto'):
    """The readout to score texts with: the one asked for, or for 'auto' image-text cosine ('similarity') if
    the contrastive objective trained the joint space, else the caption NLL if captioning trained the
    decoder."""
    if readout != 'auto':
        return readout
    if weights.get('contrastive') or not weights.get('caption'):
        return 'similarity'
    return 'nll'

def bf16_supported(device_type):
    """Whether the device computes in bf16 natively: a GPU that says so, or a CPU with AVX512-BF16 or AMX (on
    which oneDNN's bf16 matmuls of width >= 256 run 2-2.5x fp32; bench.py measures this)."""
    if device_type == 'cuda':
        return torch.cuda.is_bf16_supported()
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()

def check_device(device):
    """Stops with a config message unless torch can run on device ('cpu', 'cuda', 'cuda:1', ...)."""
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise SystemExit(f"config: device={device!r} is not a torch device (cpu, cuda, cuda:1, ...)") \
            from None
    if kind == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f"config: device={device!r}, but torch sees no CUDA GPU here (torch "
                         f"{torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); use device='cpu'")
    if kind == 'cuda' and (torch.device(device).index or 0) >= torch.cuda.device_count():
        raise SystemExit(f"config: device={device!r}, but there are {torch.cuda.device_count()} GPUs")
    if kind not in ('cpu', 'cuda'):
        raise SystemExit(f"config: device={device!r}: babyvfm runs on cpu or cuda")

def autocast_dtype(dtype, device_type):
    """A dtype setting resolved: 'auto' is bf16 where the hardware has it, else fp16 on a GPU (training adds a
    GradScaler), else fp32; any other setting stands."""
    if dtype != 'auto':
        return dtype
    if bf16_supported(device_type):
        return 'bfloat16'
    if device_type == 'cuda':
        return 'float16'
    return 'float32'

def autocast(device_type, dtype):
    """The one mixed-precision context: autocast to dtype ('bfloat16', 'float16'), or none for 'float32'."""
    if dtype == 'float32':
        return nullcontext()
    return torch.autocast(device_type, dtype=getattr(torch, dtype))

def peak_flops(device_name):
    """The card's dense bf16 peak FLOP/s, or None (a CPU, or a card not in PEAK_FLOPS: then MFU is n/a)."""
    return next((v for k, v in PEAK_FLOPS.items() if k in device_name), None)

@dataclass
class ModelConfig:
    image_size: int = 64      # frames are square, as prepare.py stores them
    patch_size: int = 8
    vit_layer: int = 4
    vit_embd: int = 128
    vit_head: int = 4
    vocab_size: int = 320     # the tokenizer's size incl. eot, padded up to a multiple of 64
    block_size: int = 16      # text positions: the start token + at most block_size - 1 utterance tokens
    n_layer: int = 4          # text decoder
    n_embd: int = 128
    n_head: int = 4
    prefix_tokens: int = 4    # connector output: the patch grid average-pooled to this many tokens (a square)
    embed_dim: int = 128      # joint image-text space, and the space the temporal model predicts in
    clip_len: int = 4         # frames per clip of the temporal objective
    temporal_layer: int = 2
    dropout: float = 0.0
    bias: bool = False
    # contrastive pairs with identical texts ("good job" is ~10% of the nursery's utterances, so a batch of
    # 64 holds several that say it): 'mask' (not each other's negatives), 'dedup' (only the first of them
    # counts) or 'off' (each a negative of the others, as plain CLIP)
    duplicate_texts: str = 'mask'

    def __post_init__(self):
        side, problems = math.isqrt(self.prefix_tokens), []
        if self.image_size % self.patch_size:
            problems.append(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        for width, heads in (('vit_embd', 'vit_head'), ('n_embd', 'n_head')):
            if getattr(self, width) % getattr(self, heads):
                problems.append(f"{width} {getattr(self, width)} is not a multiple of {heads} "
                                f"{getattr(self, heads)}")
        if side * side != self.prefix_tokens or side > self.image_size // self.patch_size:
            problems.append(f"prefix_tokens {self.prefix_tokens} must be a square no larger than the patch "
                            "grid")
        if self.block_size < 2 or self.clip_len < 2:
            problems.append("block_size and clip_len must be at least 2")
        if problems:
            raise ValueError("model config: " + "; ".join(problems))

def unit(x):
    """Unit vectors in float32: bf16 keeps 8 bits of mantissa, so its cosines are off by up to ~0.004,
    and a CLIP logit scale of 100 turns that into noise of ~0.4 nats."""
    return F.normalize(x.float(), dim=-1)

def duplicate_texts(text, text_len):
    """(B, B) True where pairs i != j have the same text: each is a positive of the other's image, not a
    negative (text_batch pads every row alike, so equal texts are equal rows)."""
    same = (text[:, None] == text[None]).all(-1) & (text_len[:, None] == text_len[None])
    return same & ~torch.eye(len(text), dtype=torch.bool, device=text.device)

def cosine(a, b):
    """a @ b.T of unit vectors in float32, also under autocast (which would run the matmul in bf16)."""
    with torch.autocast(a.device.type, enabled=False):
        return a @ b.T

def tower_of(name):
    """'vision.h.0.qkv.weight' -> 'vision'; 'temporal_logit_scale' -> 'temporal'."""
    return name.split('.')[0].split('_')[0]

def attention(q, k, v, causal, dropout_p):
    if q.device.type != 'cpu' or not torch.is_grad_enabled():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, dropout_p=dropout_p)
    # CPU training: the flash kernel's backward runs ~3x faster in fp32 than in bf16 at these short sequences,
    # and rounds less (bf16 rounds the softmax weights); autocast would turn the inputs back into bf16
    # (bench.py)
    with torch.autocast('cpu', enabled=False):
        return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal,
                                              dropout_p=dropout_p)

class Block(nn.Module):
    """Pre-norm transformer block (GPT-2, ViT), the one block of every tower."""

    def __init__(self, dim, n_head, dropout=0.0, bias=False):
        super().__init__()
        self.n_head, self.dropout = n_head, dropout
        self.ln_1 = nn.LayerNorm(dim, bias=bias)
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)
        self.ln_2 = nn.LayerNorm(dim, bias=bias)
        self.fc = nn.Linear(dim, 4 * dim, bias=bias)
        self.fc_proj = nn.Linear(4 * dim, dim, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, causal):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln_1(x)).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        y = attention(q, k, v, causal, self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(B, T, C)))
        return x + self.drop(self.fc_proj(F.gelu(self.fc(self.ln_2(x)))))

def text_batch(token_lists, eot, block_size):
    """Rows [eot, t1..tn, eot, 0...] of shape (B, longest n + 2) and lengths n; longer texts are cut
    to block_size - 1 tokens. The leading eot is the start token (GPT-2 style). The rows end at the
    batch's longest text: attention is causal and the texts right-padded, so no real token sees padding and
    a wider batch gives the same losses; on the nursery (4 tokens at the median) it halves the text tower's
    work at block_size 16."""
    lengths = np.array([min(len(t), block_size - 1) for t in token_lists], dtype=np.int64)
    text = np.zeros((len(token_lists), int(lengths.max(initial=0)) + 2), dtype=np.int64)
    text[:, 0] = eot
    for row, (tokens, n) in enumerate(zip(token_lists, lengths)):
        text[row, 1:n + 1] = np.asarray(tokens[:n], dtype=np.int64)
        text[row, n + 1] = eot
    return torch.from_numpy(text), torch.from_numpy(lengths)

class BabyVLM(nn.Module):

    def __init__(self, config, verbose=True):
        super().__init__()
        self.config = c = config
        grid = c.image_size // c.patch_size
        self.n_patches, self.n_prefix = grid * grid, c.prefix_tokens
        blocks = lambda n, dim, heads: nn.ModuleList(Block(dim, heads, c.dropout, c.bias) for _ in range(n))
        self.vision = nn.ModuleDict(dict(
            patch=nn.Conv2d(3, c.vit_embd, c.patch_size, stride=c.patch_size, bias=c.bias),
            wpe=nn.Embedding(self.n_patches, c.vit_embd),
            h=blocks(c.vit_layer, c.vit_embd, c.vit_head), ln_f=nn.LayerNorm(c.vit_embd, bias=c.bias)))
        self.text = nn.ModuleDict(dict(
            wte=nn.Embedding(c.vocab_size, c.n_embd),  # tied with the output layer (Press & Wolf 2017)
            wpe=nn.Embedding(self.n_prefix + c.block_size, c.n_embd),
            h=blocks(c.n_layer, c.n_embd, c.n_head), ln_f=nn.LayerNorm(c.n_embd, bias=c.bias)))
        # LLaVA-1.5's two-layer MLP projector; pooling the patch grid first keeps the prefix short
        self.connector = nn.Sequential(nn.Linear(c.vit_embd, c.n_embd, bias=c.bias), nn.GELU(),
                                       nn.Linear(c.n_embd, c.n_embd, bias=c.bias))
        self.contrastive = nn.ModuleDict(dict(image=nn.Linear(c.vit_embd, c.embed_dim, bias=False),
                                              text=nn.Linear(c.n_embd, c.embed_dim, bias=False)))
        self.temporal = nn.ModuleDict(dict(
            wpe=nn.Embedding(c.clip_len, c.vit_embd), h=blocks(c.temporal_layer, c.vit_embd, c.vit_head),
            ln_f=nn.LayerNorm(c.vit_embd, bias=c.bias),
            predict=nn.Linear(c.vit_embd, c.embed_dim, bias=False),
            target=nn.Linear(c.vit_embd, c.embed_dim, bias=False)))
        # CLIP's learnable temperature, initialised at 1/0.07
        self.contrastive_logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.temporal_logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        depth = {'vision': c.vit_layer, 'text': c.n_layer, 'temporal': c.temporal_layer}
        for name, p in self.named_parameters():
            if p.dim() >= 2:  # GPT-2: residual projections scaled by 1/sqrt(2 * layers)
                std = 0.02 / math.sqrt(2 * depth[tower_of(name)]) if name.endswith('proj.weight') else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith('bias'):
                nn.init.zeros_(p)
        if verbose:
            counts = self.num_params()
            print("parameters: " + ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in counts.items())
                  + f", total {sum(counts.values()) / 1e6:.2f}M")

    def num_params(self):
        counts = dict.fromkeys(TOWERS, 0)
        for name, p in self.named_parameters():
            counts[tower_of(name)] += p.numel()
        return counts

    # ---- towers

    def encode_image(self, images):
        """uint8 (B, H, W, 3) -> pooled (B, vit_embd), patch tokens (B, n_patches, vit_embd)."""
        size = self.config.image_size
        if images.dim() != 4 or tuple(images.shape[1:]) != (size, size, 3):
            raise ValueError(f"images must be uint8 (B, {size}, {size}, 3), "
                             f"got {tuple(images.shape)}")
        v = self.vision
        x = images.permute(0, 3, 1, 2).float() / 127.5 - 1.0
        x = v.patch(x).flatten(2).transpose(1, 2) + v.wpe.weight
        for block in v.h:
            x = block(x, causal=False)
        x = v.ln_f(x)
        return x.mean(1), x

    def image_prefix(self, patches):
        B, N, C = patches.shape
        side, grid = math.isqrt(self.n_prefix), math.isqrt(N)
        grid_map = patches.transpose(1, 2).reshape(B, C, grid, grid)
        return self.connector(F.adaptive_avg_pool2d(grid_map, side).flatten(2).transpose(1, 2))

    def decode(self, idx, prefix=None):
        """Causal decoder over [prefix] + tokens; text positions always start after the prefix slots,
        so the text-only pass (contrastive) and the captioning pass share position embeddings."""
        t = self.text
        x = t.wte(idx)
        start = self.n_prefix
        if prefix is not None:
            x, start = torch.cat([prefix.to(x.dtype), x], 1), 0
        if start + x.shape[1] > len(t.wpe.weight):
            raise ValueError(f"text of {idx.shape[1]} positions is longer than block_size "
                             f"{self.config.block_size}")
        x = x + t.wpe.weight[start:start + x.shape[1]]
        for block in t.h:
            x = block(x, causal=True)
        return t.ln_f(x)

    def text_logits(self, prefix, text):
        """Next-token logits at the text positions (B, L-1, vocab), given the image prefix (or none)."""
        h = self.decode(text[:, :-1], prefix)
        return F.linear(h[:, h.shape[1] - (text.shape[1] - 1):], self.text.wte.weight)

    def text_targets(self, text, text_len):
        """Targets t1..tn, eot; -1 (ignored) on padding."""
        positions = torch.arange(text.shape[1] - 1, device=text.device)
        return text[:, 1:].masked_fill(positions[None] > text_len[:, None], -1)

    def text_features(self, text, text_len):
        """Unit text embeddings: the decoder state at the last real token, run without any image (CLIP
        takes the end-of-text position; this decoder is causal, so that position has read the whole text)."""
        h = self.decode(text[:, :-1])
        return unit(self.contrastive.text(h[torch.arange(len(h), device=h.device), text_len]))

    def temporal_predict(self, pooled):
        """pooled (B, K, vit_embd) frame features -> unit predictions for frames 1..K-1 from the frames
        before each, and unit targets (the frames' own embeddings), both (B, K-1, embed_dim)."""
        t = self.temporal
        h = pooled + t.wpe.weight[:pooled.shape[1]]
        for block in t.h:
            h = block(h, causal=True)
        return unit(t.predict(t.ln_f(h[:, :-1]))), unit(t.target(pooled[:, 1:]))

    # ---- objectives

    def contrastive_loss(self, pooled, text, text_len):
        image = unit(self.contrastive.image(pooled))
        logits = self.logit_scale('contrastive') * cosine(image, self.text_features(text, text_len))
        labels = torch.arange(len(logits), device=logits.device)
        if self.config.duplicate_texts == 'mask':
            logits = logits.masked_fill(duplicate_texts(text, text_len), float('-inf'))
        if self.config.duplicate_texts == 'dedup':
            first = ~duplicate_texts(text, text_len).tril(-1).any(1)  # no identical text earlier in the batch
            logits, labels = logits[first][:, first], labels[:int(first.sum())]
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2

    def caption_loss(self, patches, text, text_len):
        logits = self.text_logits(self.image_prefix(patches), text)
        targets = self.text_targets(text, text_len)
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)

    def temporal_loss(self, pooled):
        prediction, target = (x.flatten(0, 1) for x in self.temporal_predict(pooled))
        logits = self.logit_scale('temporal') * cosine(prediction, target)
        return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))

    def logit_scale(self, objective):
        # clamped at 100 as in CLIP, so the temperature cannot shrink without bound
        return getattr(self, objective + '_logit_scale').clamp(max=math.log(100)).exp()

    def forward(self, batch, weights):
        """batch: images uint8 (B, H, W, 3), text (B, L) and text_len (B,) from text_batch, clips uint8
        (Bc, K, H, W, 3). weights: objective -> float; an objective with weight 0 is not computed, and its
        inputs may be absent. Negatives are the micro-batch (no all-gather), so splitting a global batch
        over ranks or over accumulation steps gives the same loss. Returns (loss, {objective: loss})."""
        images, n_pairs = [], 0
        if weights.get('contrastive') or weights.get('caption'):
            images.append(batch['images'])
            n_pairs = len(batch['images'])
        if weights.get('temporal'):
            clips = batch['clips']
            images.append(clips.flatten(0, 1))
        pooled, patches = self.encode_image(torch.cat(images) if len(images) > 1 else images[0])
        losses = {}
        if weights.get('contrastive'):
            losses['contrastive'] = self.contrastive_loss(pooled[:n_pairs], batch['text'], batch['text_len'])
        if weights.get('caption'):
            losses['caption'] = self.caption_loss(patches[:n_pairs], batch['text'], batch['text_len'])
        if weights.get('temporal'):
            losses['temporal'] = self.temporal_loss(pooled[n_pairs:].view(*clips.shape[:2], -1))
        return sum(weights[k] * v for k, v in losses.items()), losses

    # ---- readouts for evaluation: batched, no gradients; the caller picks eval() and autocast. Each readout
    # of pictures has a form that starts from picture_features, so that an evaluator encodes every picture
    # once for all its readouts, tasks and controls (evaluate.Engine).

    @torch.no_grad()
    def picture_features(self, images):
        """What every readout needs of a picture: pooled (B, vit_embd) and image prefix (B, prefix_tokens,
        n_embd), the ViT run once."""
        pooled, patches = self.encode_image(images)
        return pooled, self.image_prefix(patches)

    @torch.no_grad()
    def joint_embedding(self, pooled):
        """Unit image embeddings in the joint image-text space (B, embed_dim) from pooled features."""
        return unit(self.contrastive.image(pooled))

    @torch.no_grad()
    def image_embedding(self, images):
        """Unit image embeddings in the joint image-text space (B, embed_dim)."""
        return self.joint_embedding(self.encode_image(images)[0])

    @torch.no_grad()
    def text_embedding(self, text, text_len):
        """Unit text embeddings in the joint image-text space (B, embed_dim)."""
        return self.text_features(text, text_len)

    @torch.no_grad()
    def pair_similarity(self, images, text, text_len):
        """Cosine similarity of image i with text i (B,)."""
        return (self.image_embedding(images) * self.text_embedding(text, text_len)).sum(-1)

    @torch.no_grad()
    def similarity(self, images, text, text_len):
        """Cosine similarity of every image with every text (Bi, Bt)."""
        return cosine(self.image_embedding(images), self.text_embedding(text, text_len))

    @torch.no_grad()
    def text_nll(self, images, text, text_len):
        """Length-normalised NLL (nats per token, counting the closing eot) of text i given image i (B,).
        images=None scores the texts without an image prefix (an image-blind control). To score every text
        with every image, repeat them into pairs (evaluate.Engine batches pairs this way)."""
        prefix = None if images is None else self.picture_features(images)[1]
        return self.prefix_nll(prefix, text, text_len)

    @torch.no_grad()
    def prefix_nll(self, prefix, text, text_len):
        """text_nll from image prefixes (picture_features), or None for no image."""
        logits = self.text_logits(prefix, text).float()
        targets = self.text_targets(text, text_len)
        nll = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-1, reduction='none')
        return nll.sum(1) / (text_len + 1)

    @torch.no_grad()
    def surprise(self, clips):
        """Per-frame surprise along clips uint8 (B, K, H, W, 3) -> (B, K): the cosine distance between the
        predicted and the seen embedding of each frame; NaN for the first frame, which has no prediction.
        Clips longer than clip_len are read with a sliding window of clip_len frames."""
        B, K = clips.shape[:2]
        return self.pooled_surprise(self.encode_image(clips.flatten(0, 1))[0].view(B, K, -1))

    @torch.no_grad()
    def pooled_surprise(self, pooled):
        """surprise from the clips' pooled frame features (B, K, vit_embd) (picture_features)."""
        B, K = pooled.shape[:2]
        out = torch.full((B, K), float('nan'), device=pooled.device)
        L = self.config.clip_len
        for last in range(1, K):  # frame `last` predicted from the (at most L - 1) frames before it
            prediction, target = self.temporal_predict(pooled[:, max(0, last - L + 1):last + 1])
            out[:, last] = 1 - (prediction[:, -1] * target[:, -1]).sum(-1)
        return out

    @torch.no_grad()
    def generate(self, images, max_new_tokens, eot):
        """Greedy captions, one token list per image, stopping at eot (no KV cache: texts are short)."""
        return self.prefix_generate(self.picture_features(images)[1], max_new_tokens, eot)

    @torch.no_grad()
    def prefix_generate(self, prefix, max_new_tokens, eot):
        """generate from image prefixes (picture_features). Past block_size tokens the decoder reads the last
        block_size of them, as nanoGPT's generate crops its context (babylmms-eval generates up to 25)."""
        idx = torch.full((len(prefix), 1), eot, dtype=torch.long, device=prefix.device)
        done = torch.zeros(len(prefix), dtype=torch.bool, device=prefix.device)
        for _ in range(max_new_tokens):
            h = self.decode(idx[:, -self.config.block_size:], prefix)
            nxt = F.linear(h[:, -1], self.text.wte.weight).argmax(-1).masked_fill(done, eot)
            idx, done = torch.cat([idx, nxt[:, None]], 1), done | (nxt == eot)
            if done.all():
                break
        return [row[:row.index(eot)] if eot in row else row for row in idx[:, 1:].tolist()]

    # ---- training helpers

    def flops(self, n_pairs, n_clips, weights, trainable, text_positions=None):
        """Model FLOPs of one forward+backward on n_pairs image-text pairs and n_clips clips, per tower; texts
        of text_positions decoder positions (default block_size; text_batch ends a batch at its longest).
        PaLM (Chowdhery et al. 2022, app. B): a trainable tower costs 6N + 12 L d T per token (N matmul
        weights, T the tower's sequence length: patches for the ViT); a frozen tower costs a third of that
        forward only, two thirds when gradients pass through it to a trainable tower upstream."""
        c, out = self.config, dict.fromkeys(TOWERS, 0)
        T_text = text_positions or c.block_size

        def matmul(module):
            return sum(p.numel() for n, p in module.named_parameters()
                       if p.dim() >= 2 and 'wpe' not in n and 'wte' not in n)

        def add(tower, n_seq, T, N, L=0, d=0, upstream=()):
            passes = 1  # forward only
            if any(u in trainable for u in upstream):
                passes = 2  # forward, and the gradient through it
            if tower in trainable:
                passes = 3
            out[tower] += passes * n_seq * (2 * N * T + 4 * L * d * T * T)
        on = {k for k in OBJECTIVES if weights.get(k)}
        n_images = 0
        if on & {'contrastive', 'caption'}:
            n_images += n_pairs
        if 'temporal' in on:
            n_images += n_clips * c.clip_len
        add('vision', n_images, self.n_patches, matmul(self.vision), c.vit_layer, c.vit_embd)
        if 'contrastive' in on:
            add('text', n_pairs, T_text, matmul(self.text.h), c.n_layer, c.n_embd)
            add('contrastive', n_pairs, 1, matmul(self.contrastive), upstream=('vision', 'text'))
        if 'caption' in on:
            add('connector', n_pairs, self.n_prefix, matmul(self.connector), upstream=('vision',))
            add('text', n_pairs, self.n_prefix + T_text, matmul(self.text.h), c.n_layer, c.n_embd,
                upstream=('vision', 'connector'))
            add('text', n_pairs, T_text, c.vocab_size * c.n_embd, upstream=('vision', 'connector'))
        if 'temporal' in on:
            add('temporal', n_clips, c.clip_len, matmul(self.temporal), c.temporal_layer, c.vit_embd,
                upstream=('vision',))
        return out

    def configure_optimizer(self, weight_decay, learning_rate, betas, device_type):
        """AdamW with decay on matrices only (weights and embeddings), not on biases, norms, temperatures."""
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [{'params': [p for p in params if p.dim() >= 2], 'weight_decay': weight_decay},
                  {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, fused=device_type == 'cuda')

def load_checkpoint(path, map_location='cpu'):
    """A checkpoint written by train.py, loaded without unpickling code."""
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise SystemExit(f"{path}: no such checkpoint")
    except Exception as e:
        raise SystemExit(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})")
    if not isinstance(checkpoint, dict) or not {'model', 'model_args'} <= checkpoint.keys():
        raise SystemExit(f"{path}: not a babyvfm checkpoint (no 'model' and 'model_args')")
    return checkpoint

def from_checkpoint(path, map_location='cpu'):
    """(model in eval mode, checkpoint dict): what evaluate.py needs to score a trained model."""
    checkpoint = load_checkpoint(path, map_location)
    known = {f.name for f in fields(ModelConfig)}
    args = {k: v for k, v in checkpoint['model_args'].items() if k in known}
    model = BabyVLM(ModelConfig(**args), verbose=False)
    load_towers(model, checkpoint, TOWERS, path)
    return model.to(map_location).eval(), checkpoint

def load_towers(model, checkpoint, towers, path):
    """Copy the named towers' weights from a checkpoint, with a clear error if they do not fit."""
    own, state = model.state_dict(), checkpoint['model']
    keys = [k for k in own if tower_of(k) in towers]
    bad = [f"{k}: missing" if k not in state else f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
           for k in keys if k not in state or state[k].shape != own[k].shape]
    if bad:
        ours = {f.name: getattr(model.config, f.name) for f in fields(ModelConfig)}
        differ = {k: (v, ours[k]) for k, v in checkpoint['model_args'].items() if k in ours and ours[k] != v}
        raise SystemExit(f"{path}: checkpoint does not fit this architecture; (checkpoint, this run): "
                         f"{differ}; {len(bad)} tensors differ, e.g. {bad[:3]}")
    model.load_state_dict({k: state[k] for k in keys}, strict=False)
