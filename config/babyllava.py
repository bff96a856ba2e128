# BabyLLaVA (Wang et al., BabyVLM 2025): a small LLaVA, trained on captioning only (next-token loss on the
# utterance after the image prefix). An overlay like cvcl.py: the size comes from the config before it.
#   python train.py config/baby_small.py config/babyllava.py
# This trains all towers together from scratch, for the equal-compute comparison. The paper's phases are
# init_from + freeze; as this code base has no text-only language-model objective, phase 1 trains the
# decoder together with the connector on a frozen vision tower from a contrastive run:
#   python train.py config/baby_small.py config/babyllava.py --init_from=out/cvcl/ckpt.pt \
#       --init_towers=vision --freeze=vision --out_dir=out/babyllava_phase1
#   python train.py config/baby_small.py config/babyllava.py --init_from=out/babyllava_phase1/ckpt.pt \
#       --learning_rate=3e-4 --warmup_iters=0 --out_dir=out/babyllava_phase2
out_dir = 'out/babyllava'
wandb_run_name = 'babyllava'
contrastive_weight = 0.0
caption_weight = 1.0
temporal_weight = 0.0
