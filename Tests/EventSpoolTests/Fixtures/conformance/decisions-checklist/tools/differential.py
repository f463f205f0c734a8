# Differential test against the official SDK: random projects (random_project.py) run on the
# SDK (reference.py) and on `eventspool decide`, compared as ../../decisions/README.md says
# (reasons left out, uuids and timestamps by the k-th-event scheme). After a call on which the
# SDK raises (a semver ValueError, say: EventSpool answers UNKNOWN instead), the rest of that
# project is skipped, since the two states may differ from there on.
# Usage: python3 differential.py FIRST_SEED LAST_SEED [PATH_TO_UNPACKED_SDK]
#   EVENTSPOOL=path/to/eventspool (default .build/debug/eventspool of the repository)
import json, os, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..', '..', '..'))
EVENTSPOOL = os.environ.get('EVENTSPOOL', os.path.join(ROOT, '.build', 'debug', 'eventspool'))
WORK = tempfile.mkdtemp(prefix='eventspool-differential-')
def strip_reasons(r, op):
    if op == 'decide': r = dict(r); r.pop('reasons', None); return r
    if op in ('decide_for_keys', 'decide_all') and 'decisions' in r:
        r = dict(r); r['decisions'] = {k: {a: b for a, b in v.items() if a != 'reasons'} for k, v in r['decisions'].items()}
    return r
def typed(v):
    if isinstance(v, dict) and len(v) == 1 and '$int' in v: return ('i', int(v['$int']))
    if isinstance(v, bool): return ('b', v)
    if isinstance(v, int): return ('i', v)
    if isinstance(v, float): return ('f', v)
    if isinstance(v, list): return ('l', [typed(x) for x in v])
    if isinstance(v, dict): return ('d', sorted((k, typed(x)) for k, x in v.items()))
    return ('o', v)
def compare_file(base, show, client=('python-sdk', '5.7.0')):
    inp = json.load(open(base + '.input.json'))
    open(os.path.join(WORK, 'in.jsonl'), 'w').write(''.join(json.dumps(c) + '\n' for c in inp['calls']))
    args = [EVENTSPOOL, 'decide', '--datafile', os.path.join(os.path.dirname(base), inp['datafile']), '--input', os.path.join(WORK, 'in.jsonl'), '--client-name', client[0], '--client-version', client[1]]
    if 'user_profiles' in inp:
        json.dump(inp['user_profiles'], open(os.path.join(WORK, 'ups.json'), 'w')); args += ['--user-profiles', os.path.join(WORK, 'ups.json')]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0: print(base, 'exit', out.returncode, out.stderr); return 0, 0, 0
    ours = [json.loads(l) for l in out.stdout.splitlines()]
    exp = [json.loads(l) for l in open(base + '.expected.jsonl')]
    k = 0; nbad = 0; raised = 0; total = 0
    for o, e in zip(ours, exp):
        total += 1
        if 'RAISED' in e['result'] or raised:
            raised += 1; k += len(e['events']); continue
        problems = []
        if 'error' in o: problems.append('error ' + o['error'])
        else:
            op = e['op']
            r1 = strip_reasons(o['result'], op); r2 = strip_reasons(e['result'], op)
            if typed(r1) != typed(r2):
                if 'decisions' in r1 and 'decisions' in r2:
                    if r1['keys'] != r2['keys']: problems.append('keys %s vs %s' % (r1['keys'], r2['keys']))
                    for key in set(r1['decisions']) | set(r2['decisions']):
                        a = r1['decisions'].get(key); b = r2['decisions'].get(key)
                        if typed(a) != typed(b): problems.append('decision %s: %s\n   vs %s' % (key, json.dumps(a), json.dumps(b)))
                else: problems.append('result %s\n   vs %s' % (json.dumps(r1)[:600], json.dumps(r2)[:600]))
            if len(o['events']) != len(e['events']): problems.append('events %d != %d' % (len(o['events']), len(e['events'])))
            for oe, ee in zip(o['events'], e['events']):
                k += 1
                p = oe['params']; ev = p['visitors'][0]['snapshots'][0]['events'][0]
                ev['uuid'] = '00000000-0000-4000-8000-%012d' % k; ev['timestamp'] = 1700000000000 + 1000 * k
                if typed(p) != typed(ee['log_event']['params']) or oe['url'] != ee['log_event']['url']:
                    problems.append('event %s\n   vs %s' % (json.dumps(p)[:1200], json.dumps(ee['log_event']['params'])[:1200]))
            k += max(0, len(e['events']) - len(o['events']))
            on = json.loads(json.dumps(o['notifications'])); en = json.loads(json.dumps(e['notifications']))
            for n in on + en: n['decision_info'].pop('reasons', None)
            if typed(on) != typed(en):
                if len(on) != len(en): problems.append('notif count %d vs %d' % (len(on), len(en)))
                for a, b in zip(on, en):
                    if typed(a) != typed(b): problems.append('notif %s\n   vs %s' % (json.dumps(a)[:800], json.dumps(b)[:800]))
        if problems:
            nbad += 1
            if nbad <= show:
                print(base, 'call', o.get('call'), json.dumps(inp['calls'][o['call']])[:400]); [print('  ', p) for p in problems]
    return total, nbad, raised

if __name__ == '__main__':
    first, last = int(sys.argv[1]), int(sys.argv[2])
    sdk = sys.argv[3:4]
    total = bad = raised = 0
    for seed in range(first, last):
        base = os.path.join(WORK, 'r%d' % seed)
        subprocess.run([sys.executable, os.path.join(HERE, 'random_project.py'), str(seed), base], check=True)
        ref = subprocess.run([sys.executable, os.path.join(HERE, 'reference.py'), base + '.input.json', base + '.datafile.json'] + sdk,
                             capture_output=True, text=True)
        if ref.returncode != 0:
            print('seed', seed, 'reference failed:', ref.stderr.strip().splitlines()[-1][:300]); continue
        open(base + '.expected.jsonl', 'w').write(ref.stdout)
        t, b, r = compare_file(base, 3)
        total += t; bad += b; raised += r
    print('calls', total, 'mismatched', bad, 'skipped after the reference raised', raised)
