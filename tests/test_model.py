import math
from pathlib import Path

import pytest
import torch

from model import OBJECTIVES, TOWERS, BabyVLM, ModelConfig, load_towers, text_batch, tower_of

ROOT = Path(__file__).resolve().parents[1]
ALL = dict(contrastive=1.0, caption=1.0, temporal=1.0)
EOT = 63

def tiny(**kw):
    args = dict(image_size=16, patch_size=4, vit_layer=1, vit_embd=32, vit_head=2, vocab_size=64,
                block_size=8, n_layer=1, n_embd=32, n_head=2, prefix_tokens=4, embed_dim=32, clip_len=3,
                temporal_layer=1)
    torch.manual_seed(0)
    return BabyVLM(ModelConfig(**{**args, **kw}), verbose=False)

def make_batch(B=4, clips=3, K=3, size=16, vocab=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    texts = [torch.randint(0, vocab, (int(torch.randint(1, 7, (), generator=g)),), generator=g).tolist()
             for _ in range(B)]
    text, text_len = text_batch(texts, EOT, 8)
    images = torch.randint(0, 256, (B, size, size, 3), generator=g, dtype=torch.uint8)
    clip_frames = torch.randint(0, 256, (clips, K, size, size, 3), generator=g, dtype=torch.uint8)
    return dict(images=images, text=text, text_len=text_len, clips=clip_frames)

def test_text_batch_layout():
    text, n = text_batch([[5, 6, 7], [], list(range(20))], EOT, 8)
    assert text.shape == (3, 9) and n.tolist() == [3, 0, 7]
    assert text[0].tolist() == [EOT, 5, 6, 7, EOT, 0, 0, 0, 0]
    assert text[1, :2].tolist() == [EOT, EOT] and text[2, -1] == EOT  # cut to block_size - 1 tokens, then eot
    short, n = text_batch([[5, 6, 7], []], EOT, 8)  # rows end at the longest text
    assert short.tolist() == [[EOT, 5, 6, 7, EOT], [EOT, EOT, 0, 0, 0]] and n.tolist() == [3, 0]

def test_padding_changes_no_loss_or_readout():
    """A batch cut at its longest text gives the losses and readouts of the same batch padded to
    block_size: the trimmed columns are padding that no real token attends to."""
    torch.manual_seed(0)
    model = tiny().eval()
    batch = make_batch()
    pad = model.config.block_size + 1 - batch['text'].shape[1]
    assert pad > 0
    wide = dict(batch, text=torch.cat([batch['text'], torch.zeros(4, pad, dtype=torch.long)], 1))
    with torch.no_grad():
        for a, b in zip(model(batch, ALL)[1].values(), model(wide, ALL)[1].values()):
            assert torch.allclose(a, b, atol=1e-6)
        args = (batch['images'], batch['text'], batch['text_len'])
        wide_args = (batch['images'], wide['text'], batch['text_len'])
        assert torch.allclose(model.text_nll(*args), model.text_nll(*wide_args), atol=1e-6)
        assert torch.allclose(model.similarity(*args), model.similarity(*wide_args), atol=1e-6)

def test_identical_texts_are_not_each_others_negatives():
    """Pairs 0 and 2 say one text: with the mask, row 0's softmax runs over every text but 2's (and column 0's
    over every image but 2's), which is the loss written out by hand; without it, 2 is a negative of 0."""
    model = tiny()
    b = make_batch(B=4)
    text, text_len = text_batch([[5, 6], [7], [5, 6], [8, 9, 10]], EOT, 8)
    pooled = model.encode_image(b['images'])[0]
    masked = model.contrastive_loss(pooled, text, text_len)
    from model import cosine, unit
    logits = model.logit_scale('contrastive') * cosine(unit(model.contrastive.image(pooled)),
                                                       model.text_features(text, text_len))
    keep = [[j for j in range(4) if not (j != i and {i, j} == {0, 2})] for i in range(4)]
    by_hand = sum(-torch.log_softmax(logits[i, keep[i]], 0)[keep[i].index(i)] -
                  torch.log_softmax(logits[keep[i], i], 0)[keep[i].index(i)] for i in range(4)) / 8
    torch.testing.assert_close(masked, by_hand)
    model.config.mask_duplicate_texts = False
    plain = model.contrastive_loss(pooled, text, text_len)
    torch.testing.assert_close(plain, (torch.nn.functional.cross_entropy(logits, torch.arange(4)) +
                                       torch.nn.functional.cross_entropy(logits.T, torch.arange(4))) / 2)
    # one text said four times: nothing is left to tell apart, and the masked loss is 0
    same, same_len = text_batch([[5, 6]] * 4, EOT, 8)
    model.config.mask_duplicate_texts = True
    assert model.contrastive_loss(pooled, same, same_len).item() == 0.0

def test_forward_backward_shapes():
    model = tiny()
    batch = make_batch()
    loss, losses = model(batch, ALL)
    assert set(losses) == set(OBJECTIVES) and loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    pooled, patches = model.encode_image(batch['images'])
    assert pooled.shape == (4, 32) and patches.shape == (4, 16, 32)
    assert model.image_prefix(patches).shape == (4, 4, 32)
    assert model.similarity(batch['images'], batch['text'], batch['text_len']).shape == (4, 4)
    assert model.text_nll(batch['images'], batch['text'], batch['text_len']).shape == (4,)
    s = model.surprise(batch['clips'])
    assert s.shape == (3, 3) and s[:, 0].isnan().all() and s[:, 1:].isfinite().all()
    assert len(model.generate(batch['images'], 5, EOT)) == 4

def test_weight_zero_objective_is_skipped():
    model = tiny()
    batch = make_batch()
    del batch['clips']
    loss, losses = model(batch, dict(contrastive=0.0, caption=1.0, temporal=0.0))
    assert set(losses) == {'caption'} and torch.equal(loss, losses['caption'])
    loss.backward()
    grads = {tower_of(n) for n, p in model.named_parameters() if p.grad is not None}
    assert grads == {'vision', 'connector', 'text'}

def test_losses_at_init():
    model = tiny(vocab_size=512, embed_dim=512)
    B = 32
    batch = make_batch(B=B, clips=16, vocab=500)
    with torch.no_grad():
        _, losses = model(batch, ALL)
    assert abs(losses['caption'].item() - math.log(512)) < 0.1
    # random unit vectors in d dims have dot products of variance 1/d; with CLIP's initial scale s = 1/0.07
    # the logits have variance s^2/d, and the expected InfoNCE is about ln(B) + s^2 / (2d)
    excess = (1 / 0.07) ** 2 / (2 * 512)
    assert abs(losses['contrastive'].item() - (math.log(B) + excess)) < 0.25
    assert abs(losses['temporal'].item() - (math.log(16 * 2) + excess)) < 0.25

def test_overfit_one_batch():
    model = tiny()
    batch = make_batch(B=8, clips=4)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
    for _ in range(200):
        loss, losses = model(batch, ALL)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(v.item() < 0.1 for v in losses.values()), losses

def all_pairs_nll(model, images, text, text_len):
    """The NLL of every text given every image (Bi, Bt), asked as pairs, as evaluate.Engine asks."""
    i, j = torch.cartesian_prod(torch.arange(len(images)), torch.arange(len(text))).unbind(1)
    return model.text_nll(images[i], text[j], text_len[j]).view(len(images), len(text))

def test_readouts_agree_with_direct_computation():
    model = tiny().eval()
    b = make_batch(B=3)
    nll = all_pairs_nll(model, b['images'], b['text'], b['text_len'])
    sim = model.similarity(b['images'], b['text'], b['text_len'])
    with torch.no_grad():
        for i in range(3):
            for j in range(3):  # a pair's caption loss is its mean NLL per token, eot included
                patches = model.encode_image(b['images'][i:i + 1])[1]
                direct = model.caption_loss(patches, b['text'][j:j + 1], b['text_len'][j:j + 1])
                assert torch.allclose(nll[i, j], direct, atol=1e-5)
                prefix = model.picture_features(b['images'][i:i + 1])[1]
                logits = model.text_logits(prefix, b['text'][j:j + 1])[0]
                n = b['text_len'][j]
                logp = torch.log_softmax(logits[:n + 1], -1).gather(1, b['text'][j, 1:n + 2, None])
                assert torch.allclose(nll[i, j], -logp.mean(), atol=1e-5)
        image = model.contrastive.image(model.encode_image(b['images'])[0])
        h = model.decode(b['text'][:, :-1])[torch.arange(3), b['text_len']]
        text = model.contrastive.text(h)
        direct = (image / image.norm(dim=-1, keepdim=True)) @ (text / text.norm(dim=-1, keepdim=True)).T
    assert torch.allclose(sim, direct, atol=1e-5)
    aligned = model.text_nll(b['images'], b['text'], b['text_len'])
    assert torch.allclose(aligned, nll.diagonal(), atol=1e-5)

def test_batched_readouts_equal_one_by_one():
    model = tiny().eval()
    b = make_batch(B=5, clips=3)
    nll = all_pairs_nll(model, b['images'], b['text'], b['text_len'])
    sim = model.similarity(b['images'], b['text'], b['text_len'])
    for i in range(5):
        for j in range(5):
            args = (b['images'][i:i + 1], b['text'][j:j + 1], b['text_len'][j:j + 1])
            assert torch.allclose(nll[i, j], model.text_nll(*args)[0], atol=1e-5)
            assert torch.allclose(sim[i, j], model.similarity(*args)[0, 0], atol=1e-5)
    surprise = model.surprise(b['clips'])
    for k in range(3):
        assert torch.allclose(surprise[k], model.surprise(b['clips'][k:k + 1])[0], atol=1e-5, equal_nan=True)
    generated = model.generate(b['images'], 6, EOT)
    assert generated == [model.generate(b['images'][i:i + 1], 6, EOT)[0] for i in range(5)]
    blind = model.text_nll(None, b['text'], b['text_len'])  # image-blind control
    assert blind.shape == (5,) and blind.isfinite().all()

def test_captions_run_past_block_size():
    """babylmms-eval generates up to 25 tokens; past block_size (8 here) the decoder reads the last 8, as
    nanoGPT's generate crops its context. A model that never says eot writes all 25."""
    model = tiny().eval()
    with torch.no_grad():  # eot's logit is then 0, below the best of 63 random ones (a fixed seed)
        model.text.wte.weight[EOT] = 0
    images = make_batch(B=2)['images']
    captions = model.generate(images, 25, EOT)
    assert [len(c) for c in captions] == [25, 25]
    assert [c[:7] for c in captions] == [c[:7] for c in model.generate(images, 7, EOT)]

def test_surprise_reads_long_clips_with_a_window():
    model = tiny().eval()
    clips = make_batch(clips=2, K=6)['clips']
    s = model.surprise(clips)
    assert s.shape == (2, 6) and s[:, 1:].isfinite().all()
    assert torch.allclose(s[:, :3], model.surprise(clips[:, :3]), atol=1e-5, equal_nan=True)

def test_flops_follow_palm_formula():
    model = tiny()
    c = model.config
    flops = model.flops(n_pairs=2, n_clips=0, weights=dict(contrastive=1.0),
                        trainable={'vision', 'text', 'contrastive'})
    N = sum(p.numel() for n, p in model.vision.named_parameters() if p.dim() >= 2 and 'wpe' not in n)
    T = model.n_patches
    assert flops['vision'] == 2 * (6 * N * T + 12 * c.vit_layer * c.vit_embd * T * T)
    frozen = model.flops(2, 0, dict(contrastive=1.0), trainable={'text', 'contrastive'})
    assert frozen['vision'] * 3 == flops['vision'] and frozen['text'] == flops['text']
    assert model.flops(2, 0, dict(caption=1.0), {'connector'})['text'] * 3 == \
        model.flops(2, 0, dict(caption=1.0), {'text'})['text'] * 2  # frozen, gradients pass through: 4N
    assert model.flops(2, 3, ALL, set(TOWERS))['temporal'] > 0

def test_param_counts_per_tower():
    model = tiny()
    counts = model.num_params()
    assert set(counts) == set(TOWERS) and sum(counts.values()) == sum(p.numel() for p in model.parameters())
    assert model.text.wte.weight.shape == (64, 32)  # tied: no separate output matrix
    assert not any('lm_head' in n for n, _ in model.named_parameters())

def test_bad_config_and_inputs():
    with pytest.raises(ValueError, match="image_size 60 is not a multiple of patch_size 8"):
        ModelConfig(image_size=60, patch_size=8)
    with pytest.raises(ValueError, match="prefix_tokens 3"):
        ModelConfig(prefix_tokens=3)
    with pytest.raises(ValueError, match=r"images must be uint8 \(B, 16, 16, 3\)"):
        tiny().encode_image(torch.zeros(2, 32, 32, 3, dtype=torch.uint8))

def test_checkpoint_of_another_architecture_is_refused():
    source = tiny(n_embd=64)
    checkpoint = dict(model=source.state_dict(), model_args=dict(vars(source.config)))
    target = tiny()
    with pytest.raises(SystemExit, match=r"does not fit this architecture.*'n_embd': \(64, 32\)"):
        load_towers(target, checkpoint, TOWERS, 'other/ckpt.pt')
    load_towers(target, checkpoint, ('vision',), 'other/ckpt.pt')  # the vision towers do fit
    assert torch.equal(target.vision.patch.weight, source.vision.patch.weight)
