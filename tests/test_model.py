from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from model import TOWERS, BabyVLM, ModelConfig, load_towers, text_batch

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
    """Pairs 0 and 2 say one text. 'mask': row 0's softmax runs over every text but 2's (and column 0's over
    every image but 2's), which is the loss written out by hand; 'dedup': pair 2 leaves the batch; 'off':
    2 is a negative of 0, as in plain CLIP."""
    from model import cosine, unit
    model = tiny()
    pooled = model.encode_image(make_batch(B=4)['images'])[0]
    text, text_len = text_batch([[5, 6], [7], [5, 6], [8, 9, 10]], EOT, 8)
    logits = model.logit_scale('contrastive') * cosine(unit(model.contrastive.image(pooled)),
                                                       model.text_features(text, text_len))

    def clip_loss(logits):
        labels = torch.arange(len(logits))
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    keep = [[j for j in range(4) if not (j != i and {i, j} == {0, 2})] for i in range(4)]
    by_hand = sum(-torch.log_softmax(logits[i, keep[i]], 0)[keep[i].index(i)] -
                  torch.log_softmax(logits[keep[i], i], 0)[keep[i].index(i)] for i in range(4)) / 8
    torch.testing.assert_close(model.contrastive_loss(pooled, text, text_len), by_hand)
    model.config.duplicate_texts = 'dedup'
    first = [0, 1, 3]
    dedup = model.contrastive_loss(pooled, text, text_len)
    torch.testing.assert_close(dedup, clip_loss(logits[first][:, first]))
    model.config.duplicate_texts = 'off'
    torch.testing.assert_close(model.contrastive_loss(pooled, text, text_len), clip_loss(logits))
    # one text said four times: nothing is left to tell apart, and the masked loss is 0
    same, same_len = text_batch([[5, 6]] * 4, EOT, 8)
    model.config.duplicate_texts = 'mask'
    assert model.contrastive_loss(pooled, same, same_len).item() == 0.0

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
