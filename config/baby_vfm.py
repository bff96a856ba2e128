# Ours: contrastive + captioning + temporal prediction over short clips, which also learns from the
# frames no one speaks over. An overlay like cvcl.py: the size comes from the config before it.
#   python train.py config/baby_small.py config/baby_vfm.py
# The temporal objective costs little (a 2-layer transformer over clip_len frame embeddings), but its
# clips add clip_batch_size * clip_len images per micro-batch to the vision tower's work: compare the
# baselines at equal steps and also at equal FLOPs (the log prints GFLOPs per step for each).
out_dir = 'out/baby_vfm'
wandb_run_name = 'baby_vfm'
contrastive_weight = 1.0
caption_weight = 1.0
temporal_weight = 1.0
