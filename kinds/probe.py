"""
Linear and k-NN probes of frozen features (the nursery's probes/: frames of each named thing, split into train
and test by recording). The features are model.py's image_embedding; the probes are trained here: softmax
regression (L2, LBFGS, on standardised features) and a 10-NN vote (cosine, DINO's weighting, temperature
0.07). Score: linear accuracy on the test frames with a Wilson interval; k-NN accuracy beside it.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from kinds.formats import BenchError, image_key, read_json
from kinds.readouts import require_answers
from scoring import wilson

CONTROLS = ('image_blind',)  # no text to remove

def load(path):
    p, folder = read_json(path), os.path.dirname(path)
    labels = p.get('labels') if isinstance(p, dict) else None
    for i, it in enumerate(p.get('items', []) if labels else [None]):
        if not (isinstance(it, dict) and it.get('label') in labels and it.get('split') in ('train', 'test')
                and it.get('image')):
            raise BenchError(f"{path}: item {i}: needs image, a label from 'labels', split train|test")
    items = [dict(id=str(i), image=image_key(f"{folder}/{it['image']}"), label=labels.index(it['label']),
                  split=it['split']) for i, it in enumerate(p['items'])]
    return dict(kind='probe', labels=labels, items=items)

FILES = {'probes/data.json': ('probes', load)}

def images(item):
    return [item['image']]

def answer(engine, task, mode):
    features = engine.embeddings([it['image'] for it in task['items']], mode)
    return {it['id']: f for it, f in zip(task['items'], features)}

def readout(task, how):
    return 'probes of image_embedding'

def linear_probe(train, y_train, test, n_labels, seed):
    """Predictions of softmax regression (L2 1e-3, LBFGS, 200 iterations) on standardised features."""
    mu, sd = train.mean(0), train.std(0) + 1e-6
    a, b = (train - mu) / sd, (test - mu) / sd
    torch.manual_seed(seed)
    lin = torch.nn.Linear(a.shape[1], n_labels)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=200, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(lin(a), y_train) + 1e-3 * lin.weight.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return lin(b).argmax(1)

def knn_probe(train, y_train, test, n_labels, k=10, temperature=0.07):
    """Predictions of a k-NN vote, each neighbour weighted by exp(cosine / temperature) (DINO's k-NN)."""
    na, nb = F.normalize(train, dim=1), F.normalize(test, dim=1)
    sim, idx = (nb @ na.T).topk(min(k, len(na)), dim=1)
    votes = torch.zeros(len(nb), n_labels).scatter_add_(1, y_train[idx], (sim / temperature).exp())
    return votes.argmax(1)

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    require_answers(task, answers, [it['id'] for it in items])
    x, y = {}, {}
    for split in ('train', 'test'):
        features = np.array([answers[it['id']] for it in items if it['split'] == split])
        x[split] = torch.tensor(features, dtype=torch.float32)
        y[split] = torch.tensor([it['label'] for it in items if it['split'] == split])
    n_labels, n = len(task['labels']), len(x['test'])
    predicted = linear_probe(x['train'], y['train'], x['test'], n_labels, seed)
    linear = (predicted == y['test']).float().mean().item()
    knn = (knn_probe(x['train'], y['train'], x['test'], n_labels) == y['test']).float().mean().item()
    return dict(n=n, metric='linear_acc', score=linear, chance=1 / n_labels, interval=wilson(linear, n),
                metrics=dict(linear_acc=linear, knn_acc=knn, n_train=len(x['train']),
                             interval_knn=wilson(knn, n)))
