# CVCL (Vong, Wang, Orhan & Lake, Science 2024): contrastive image-utterance learning only.
# An overlay: it sets the objectives, the model size comes from the config before it, so the baselines
# (cvcl.py, babyllava.py, baby_vfm.py) compare at equal size, batch and steps:
#   python train.py config/baby_small.py config/cvcl.py     # the nursery, on a CPU
#   torchrun --standalone --nproc_per_node=8 train.py config/saycam.py config/cvcl.py
# Alone (python train.py config/cvcl.py) it runs at train.py's defaults, the baby_small size.
# The paper's towers differ: a ResNeXt-50 pretrained with DINO on SAYCam, and a text encoder that averages
# word embeddings; here both are transformers trained from scratch (init_from can load a vision tower).
out_dir = 'out/cvcl'
wandb_run_name = 'cvcl'
contrastive_weight = 1.0
caption_weight = 0.0
temporal_weight = 0.0
