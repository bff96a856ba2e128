# The lab-server recipe for a real corpus: SAYCam-S, BabyView, or your own head-camera recordings.
#   python prepare.py --input_dir=/data/saycam --out_dir=data/saycam --fps=5 --image_size=224 \
#       --vocab_size=6000
#   torchrun --standalone --nproc_per_node=8 train.py config/saycam.py                 # all objectives
#   torchrun --standalone --nproc_per_node=8 train.py config/saycam.py config/cvcl.py  # a baseline, same size
# gradient_accumulation_steps is over all ranks: 8 GPUs run one micro-batch each, 1 GPU runs 8 in turn,
# and both train on the same global batch of 512 pairs + 128 clips per step.
# Size: the BabyLLaVA baseline's language model (GPT-2, 8 layers of width 256, 6k vocabulary) and a
# ViT-S/16 vision tower (12 layers of width 384). Parameters with a 6,016-entry vocabulary: vision 21.6M,
# text 7.9M, connector 0.2M, contrastive heads 0.2M, temporal 3.7M; 33.5M in all.
# Compute: ~60 GFLOPs per pair (forward + backward, its share of the clips included), 92% in the vision tower.
# Memory per GPU (bf16 autocast): ~0.4 GB of weights, gradients and AdamW state, plus ~55 MB of
# activations per image (measured on CPU at 224 px: a pair's frame and text, or one clip frame). With
# 64 pairs + 16 clips of 4 frames per micro-batch (128 images) that is about 7.5 GB: a 24 GB card has room
# to double batch_size and clip_batch_size, an 80 GB one to go 4x (halve gradient_accumulation_steps to keep
# the global batch). SAYCam-S has ~37.5k training utterances (CVCL): 20k steps of 512 pairs see each one
# ~270 times, each time with a fresh random frame of its span.
out_dir = 'out/saycam'
data_dir = 'data/saycam'
wandb_run_name = 'saycam'
batch_size = 64
clip_batch_size = 16
gradient_accumulation_steps = 8
clip_stride = 5                  # frames stored at 5 fps: clips of 4 frames at 1 fps
patch_size = 16
vit_layer = 12
vit_embd = 384
vit_head = 6
block_size = 32                  # child-directed utterances are short: 32 BPE tokens hold nearly all of them
n_layer = 8
n_embd = 256
n_head = 8
prefix_tokens = 49               # the 14x14 patch grid pooled to 7x7
embed_dim = 256
temporal_layer = 2
learning_rate = 5e-4
min_lr = 5e-5
weight_decay = 0.1
warmup_iters = 1000
max_iters = 20000
lr_decay_iters = 20000
eval_interval = 1000
eval_iters = 20
log_interval = 20
probe_trials = 1000
# Labeled-S' 22 categories
probe_words = ('ball,basket,car,cat,chair,computer,crib,door,floor,foot,ground,hand,kitchen,paper,puzzle,'
               'road,room,sand,stairs,table,toy,window')
