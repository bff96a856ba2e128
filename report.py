"""
What evaluate.py writes: results.json (every run, as main returns them), report.md (the last run's table,
each score beside its blind controls and its best skill-free baseline, the trajectory over runs), report.png,
and the table it prints.
"""
import json
import math
import os

import numpy as np

from atomic import atomic_path, atomic_write
from baselines import judge
from scoring import over_seeds, paired_difference

def fmt(x):
    return '-' if x is None else f"{x:.3f}"

SHORT = {'thumbnail 4x4': 'thumb 4x4', 'thumbnail 8x8': 'thumb 8x8', 'colour histogram': 'histogram',
         'salient area': 'area', 'motion energy': 'motion', 'frame difference': 'frame diff',
         'answer prior': 'prior',
         'text_blind control': 'text-blind', 'image_blind control': 'image-blind'}
COLUMNS = (('n', 5), ('score', 6), ('chance', 6), ('95% interval', 15), ('readout', 25), ('text-blind', 10),
           ('image-blind', 11), ('best baseline', 21), ('evidence', 11))

def verdict(t):
    """'yes' where the score beats the best skill-free baseline (or blind control) beyond its interval, 'no'
    where it does not; ', leaky' where that baseline itself clears chance (the suite can be passed without
    the skill); n/a for a row the checkpoint cannot answer."""
    if t.get('na'):
        return 'n/a'
    if 'evidence' not in t:
        return '-'
    word = 'yes' if t['evidence'] else 'no'
    if t.get('leaky'):
        word += ', leaky'
    return word

def cells(t):
    """A task's row, formatted: the same cells in the printed table and in report.md."""
    iv, controls, best = t.get('interval'), t.get('controls', {}), t.get('best_baseline')
    blind = [fmt(controls.get(mode, {}).get('score')) for mode in ('text_blind', 'image_blind')]
    return [str(t['n']), 'n/a' if t.get('na') else fmt(t['score']), fmt(t['chance']),
            f'[{iv[0]:.3f}, {iv[1]:.3f}]' if iv else '-', t['readout'], *blind, baseline_cell(best),
            verdict(t)]

def baseline_cell(best):
    """'0.920 thumb 4x4': the best baseline's score and short name."""
    if not best:
        return '-'
    return f"{fmt(best['score'])} {SHORT.get(best['name'], best['name'])}"

def table(run):
    w = max([26] + [len(k) for k in run['tasks']])
    head = f"{'task':{w}s} " + ' '.join(f"{name:>{width}s}" for name, width in COLUMNS)
    rows = [head, '-' * len(head)]
    for k, t in run['tasks'].items():
        row = cells(t)
        row[4] = row[4][:25]
        rows.append(f"{k:{w}s} " + ' '.join(f"{c:>{width}s}" for c, (_, width) in zip(row, COLUMNS)))
    rows += not_answered(run)
    overall = run['leaderboard']['overall']
    rows.append(f"DevCV leaderboard overall (11 tasks, a missing one counts 0): {overall:.3f}")
    if run['machine_devbench']:
        summary = ', '.join(f"{k} {v:.3f}" for k, v in run['machine_devbench'].items())
        rows.append(f"Machine-DevBench: {summary}")
    return '\n'.join(rows)

def not_answered(run):
    return [f"n/a: {k}: {t['na']}" for k, t in run['tasks'].items() if t.get('na')]

def trajectory(runs):
    """report.md's table of each task's score over the runs (steps, and the age of the data seen)."""
    keys = list(dict.fromkeys(k for r in runs for k in r['tasks']))
    heads = []
    for r in runs:
        age = f" ({r['age_days']:.0f} d)" if r.get('age_days') is not None else ''
        heads.append(f"step {r.get('step')}{age}")
    lines = ['## Trajectory', '', '| task | ' + ' | '.join(heads) + ' |', '|---' * (len(runs) + 1) + '|']
    for k in keys:
        lines.append(f"| {k} | " + ' | '.join(fmt(r['tasks'].get(k, {}).get('score')) for r in runs) + ' |')
    return lines

def report(runs, path, eval_version, over=None):
    """report.md: the table of the last run, the trajectory over runs, and a figure (matplotlib, if
    installed)."""
    last, lines = runs[-1], [f"# Evaluation (EVAL_VERSION {eval_version})", '']
    lines += [f"- {r['ckpt']}: step {r.get('step')}, age of data seen {fmt(r.get('age_days'))} days, readout "
              f"{r.get('readout')}, {r['seconds']:.0f} s" for r in runs] + ['']
    lines += ['| task | ' + ' | '.join(name for name, _ in COLUMNS) + ' |', '|---' * (len(COLUMNS) + 1) + '|']
    lines += [f"| {k} | " + ' | '.join(cells(t)) + ' |' for k, t in last['tasks'].items()]
    lines += [''] + not_answered(last)
    lines += ['', "evidence: the score beats its best skill-free baseline (baselines.py) or blind control "
              "beyond its 95% interval; leaky: that baseline's own interval lies above chance"]
    lines += ['', f"DevCV leaderboard overall: {last['leaderboard']['overall']:.3f}; Machine-DevBench: "
              + json.dumps({k: round(v, 3) for k, v in last['machine_devbench'].items()}), '']
    if over:
        lines += ['## Over seeds', '', f"{len(runs)} checkpoints of one config, trained with different "
                  "seeds:", ''] + seed_table(over) + ['']
    elif len(runs) > 1:
        lines += trajectory(runs)
    try:
        figure(runs, os.path.join(os.path.dirname(path), 'report.png'))
        lines += ['', '![scores](report.png)']
    except ImportError:
        lines += ['', '(no figure: matplotlib is not installed)']
    atomic_write(path, '\n'.join(lines) + '\n')

def figure(runs, path):
    """Bars of each task's score against chance (one run), or each task's score over the runs."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = [k for k, t in runs[-1]['tasks'].items() if t['score'] is not None]
    if len(runs) == 1:
        fig = bar_figure(plt, runs[0]['tasks'], keys)
    else:
        fig = trajectory_figure(plt, runs, keys)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format='png')
    plt.close(fig)

def bar_figure(plt, tasks_, keys):
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(keys) + 1))
    chance = [np.nan if tasks_[k]['chance'] is None else tasks_[k]['chance'] for k in keys]
    ax.barh(range(len(keys)), [tasks_[k]['score'] for k in keys], color='tab:blue', label='score')
    ax.scatter(chance, range(len(keys)), marker='|', s=200, color='k', label='chance', zorder=3)
    ax.set_yticks(range(len(keys)), keys, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7)
    return fig

def trajectory_figure(plt, runs, keys):
    cols = 4
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.2 * rows), squeeze=False)
    for ax, k in zip(axes.flat, keys):
        ax.plot([r.get('step') for r in runs], [r['tasks'].get(k, {}).get('score') for r in runs], 'o-')
        if runs[-1]['tasks'][k]['chance'] is not None:
            ax.axhline(runs[-1]['tasks'][k]['chance'], ls='--', color='k', lw=0.8)
        ax.set_title(k, fontsize=8)
        ax.set_xlabel('step', fontsize=7)
    for ax in axes.flat[len(keys):]:
        ax.axis('off')
    return fig

# ------------------------------------------------------------------------ seeds, and two configs compared

def seed_summary(runs, reps, seed):
    """{task: scoring.over_seeds of its runs, judged (baselines.judge) on the interval over seeds and items
    against the baselines (model-free: the same in every run) and each blind control's mean over the runs}:
    the runs are one config trained with different seeds."""
    keys = [k for k in runs[0]['tasks'] if all(r['tasks'].get(k, {}).get('score') is not None for r in runs)]
    out = {}
    for k in keys:
        tasks = [r['tasks'][k] for r in runs]
        over = over_seeds(tasks, reps, seed)
        controls = {m: dict(score=float(np.mean([t['controls'][m]['score'] for t in tasks])), interval=None)
                    for m in tasks[0].get('controls', {}) if all(m in t.get('controls', {}) for t in tasks)}
        if 'baselines' in tasks[0]:
            over.update(judge(dict(score=over['mean'], interval=over['interval'], chance=tasks[0]['chance'],
                                   baselines=tasks[0]['baselines'], controls=controls)))
        out[k] = over
    return out

def seed_table(over):
    lines = ['| task | seeds | mean | sd | 95% interval | over | best baseline | evidence |',
             '|---' * 8 + '|']
    for k, o in over.items():
        sd = '-' if o['sd'] is None else f"{o['sd']:.3f}"
        best = baseline_cell(o.get('best_baseline'))
        lines.append(f"| {k} | {o['n_seeds']} | {o['mean']:.3f} | {sd} | {o['interval'][0]:.3f}-"
                     f"{o['interval'][1]:.3f} | {o['interval_over']} | {best} | {verdict(o)} |")
    return lines

def read_runs(path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)['runs']
    except (OSError, ValueError, KeyError) as e:
        raise SystemExit(f"{path}: not an evaluate.py results.json ({type(e).__name__}: {e})") from None

def comparison(paths, reps=1000, seed=0):
    """report.md-style lines comparing two results.json files (each one config, its runs the seeds) task by
    task on the items both scored: scoring.paired_difference of their per-item credits."""
    a, b = (read_runs(p) for p in paths)
    lines = [f"a: {paths[0]} ({len(a)} runs), b: {paths[1]} ({len(b)} runs)", '',
             '| task | n | a | b | a - b | 95% interval | p | beyond noise |', '|---' * 8 + '|']
    for k in a[0]['tasks']:
        credits = [[r['tasks'].get(k, {}).get('per_item') for r in runs] for runs in (a, b)]
        if not all(c is not None for side in credits for c in side):
            continue
        if len({len(c) for side in credits for c in side}) != 1:
            continue  # not the same items
        d = paired_difference(*credits, reps, seed)
        means = [float(np.mean(side)) for side in credits]
        lines.append(f"| {k} | {d['n']} | {means[0]:.3f} | {means[1]:.3f} | {d['difference']:+.3f} | "
                     f"{d['interval'][0]:+.3f} to {d['interval'][1]:+.3f} | {d['p']:.3f} | "
                     f"{'yes' if d['beyond_noise'] else 'no'} |")
    return lines

def write_results(runs, cfg, eval_version):
    """results.json and report.md; with cfg['seeds'], the runs' summary over seeds in both."""
    over = seed_summary(runs, cfg['bootstrap'], cfg['seed']) if cfg['seeds'] and len(runs) > 1 else None
    results = json.dumps(dict(eval_version=eval_version, config=cfg, runs=runs, over_seeds=over), indent=1,
                         default=float)
    try:
        atomic_write(os.path.join(cfg['out_dir'], 'results.json'), results)
        report(runs, os.path.join(cfg['out_dir'], 'report.md'), eval_version, over)
    except OSError as e:
        raise SystemExit(f"cannot write the results to {cfg['out_dir']}: {e.strerror}") from None
    if over:
        print('\n'.join(['', 'over seeds:'] + seed_table(over)))
    print(f"wrote {cfg['out_dir']}/results.json and {cfg['out_dir']}/report.md")
