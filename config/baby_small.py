# The CPU quickstart: all three objectives on the nursery corpus
# (python data/nursery/make.py; python prepare.py).
# 1000 steps of 0.19-0.41 s on 2 CPU cores with bf16 autocast (3-7 minutes), 0.46-0.54 s in float32 (8-9
# minutes): the same kind of cloud machine, measured on two days (README.md, Performance).
# 2.2M parameters (vision 0.82M, text 0.89M with the nursery's 734-token vocabulary, connector and contrastive
# heads 0.03M each, temporal 0.43M); the model defaults of train.py are this size. What it learns: README.md.
out_dir = 'out/baby_small'
data_dir = 'data/nursery'
wandb_run_name = 'baby_small'
batch_size = 64
clip_batch_size = 16
max_iters = 1000
lr_decay_iters = 1000
warmup_iters = 50
learning_rate = 1e-3
min_lr = 1e-4
eval_interval = 250
eval_iters = 8
log_interval = 25
probe_trials = 600     # the nursery's 968 val utterances give ~600 trials: a 95% interval of about +-0.035
block_size = 16        # the nursery's utterances: 4 tokens at the median, 9 at the 99th percentile
# the nursery's object and place names (data/nursery/world.py), a superset of Labeled-S' 22 categories
probe_words = ('ball,apple,banana,cup,bottle,spoon,car,cat,dog,duck,bear,book,chair,table,crib,basket,'
               'bucket,shoe,block,toy,puzzle,paper,computer,door,window,tree,flower,hand,foot,room,kitchen,'
               'floor,sand,road,stairs,ground')
