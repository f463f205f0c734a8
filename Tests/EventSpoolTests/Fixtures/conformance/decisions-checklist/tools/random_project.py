# Writes a random datafile and 150 random calls (the format of ../../decisions) from a seed:
# typed and legacy audiences with every match type and wrong-typed values, holes and gaps,
# groups, feature rollouts, CMAB experiments, every variable type with odd values, user profiles.
# Usage: python3 random_project.py SEED OUTPUT_BASE [CALLS]  (writes OUTPUT_BASE.datafile.json
# and OUTPUT_BASE.input.json)
import json, random, sys
seed = int(sys.argv[1]); R = random.Random(seed)
out = sys.argv[2]
ids = iter(range(10**10 + seed * 100000, 10**12))
def nid(): return str(next(ids))
ATTRS = ['browser', 'age', 'ltv', 'app_version', 'plan', 'is_logged_in', 'country', 'visits']
attributes = [{'id': nid(), 'key': k} for k in ATTRS]
def cond():
    m = R.choice(['exact', 'exact', 'exists', 'substring', 'gt', 'ge', 'lt', 'le', 'semver_eq', 'semver_gt', 'semver_ge', 'semver_lt', 'semver_le', None, 'regex', 'qualified'])
    name = R.choice(ATTRS)
    t = R.choice(['custom_attribute'] * 8 + ['third_party_dimension', 'future_type'])
    if m and m.startswith('semver'): v = R.choice(['1.2', '2.0.0', '3.0.0-rc.1', '2.1.0-beta', '1', '2.0.0+build.1', '10.2', 'x.y'])
    elif m == 'substring': v = R.choice(['ch', 'pro', 'fi', 'U'])
    elif m in ('gt', 'ge', 'lt', 'le'): v = R.choice([18, 21, 0, -5, 99.5, 250.25, 9007199254740994, True, '5'])
    else: v = R.choice(['chrome', 'firefox', 'pro', 'free', 'US', True, False, 18, 21, 30.0, 100.01, None, 9007199254740993, 'Chrome'])
    c = {'name': name, 'type': t, 'value': v}
    if m is not None: c['match'] = m
    if R.random() < 0.03: c['value'] = {'x': 1}
    return c
def tree(depth=0):
    r = R.random()
    if depth > 2 or r < 0.4: return cond()
    ops = R.choice(['and', 'or', 'not', None])
    kids = [tree(depth + 1) for _ in range(R.randint(1, 3))]
    return ([ops] if ops else []) + kids
audiences, typed = [], []
for i in range(R.randint(2, 6)):
    aid = nid()
    if R.random() < 0.5:
        typed.append({'id': aid, 'name': 'typed_%d' % i, 'conditions': tree()})
        audiences.append({'id': aid, 'name': 'Optimizely-Generated Audience for Backwards Compatibility', 'conditions': '["or", {"match": "exact", "name": "$opt_dummy_attribute", "type": "custom_attribute", "value": "impossible_value"}]'})
    else:
        audiences.append({'id': aid, 'name': 'legacy_%d' % i, 'conditions': json.dumps(['and', ['or', ['or', cond()]]])})
aud_ids = [a['id'] for a in audiences]
def aud_conditions():
    r = R.random()
    if r < 0.2: return None, []
    if r < 0.3: return [], R.sample(aud_ids, 1)
    ids_ = R.sample(aud_ids, R.randint(1, min(3, len(aud_ids))))
    if R.random() < 0.1: ids_.append('999999')
    op = R.choice(['and', 'or', 'not', None])
    c = ([op] if op else []) + ids_
    if R.random() < 0.2 and op: c = [op, ['or'] + ids_[:1], ids_[-1]]
    return c, ids_[:2]
VARTYPES = [('string', None, ['grey', 'Grüße', '', 'a "q"']), ('boolean', None, ['true', 'false', 'True']),
            ('integer', None, ['42', '-7', '1.5', ' 42 ', '4_2', '12345678901234567890', '007', 'x']),
            ('double', None, ['1.5', '100', 'nan', '-inf', '1e3', 'abc', '1_0.5']),
            ('json', None, ['{"k": 1}', '[1, 2.0]', '{bad', '3', '{"a": {"b": null}}', '{"k": 1, "k": 2}']),
            ('string', 'json', ['{"s": "x"}', 'oops']), ('date', None, ['2020-01-01'])]
def variables():
    vs = []
    for i in range(R.randint(0, 4)):
        t, st, vals = R.choice(VARTYPES)
        v = {'id': nid(), 'key': 'var_%d_%s' % (i, t), 'type': t, 'defaultValue': R.choice(vals)}
        if st: v['subType'] = st
        vs.append((v, vals))
    return vs
def alloc(vars_):
    a, end = [], 0
    for v in vars_:
        end = min(10000, end + R.randint(500, 6000))
        if R.random() < 0.15: a.append({'entityId': '', 'endOfRange': end}); end = min(10000, end + R.randint(100, 3000))
        a.append({'entityId': v['id'], 'endOfRange': end})
    if R.random() < 0.6: a[-1]['endOfRange'] = 10000
    return a
def experiment(key, flagvars, status=None):
    vs = []
    for j in range(R.randint(1, 3)):
        v = {'id': nid(), 'key': '%s_v%d' % (key, j), 'featureEnabled': R.random() < 0.7}
        v['variables'] = [{'id': fv['id'], 'value': R.choice(vals)} for fv, vals in flagvars if R.random() < 0.6]
        vs.append(v)
    c, ids_ = aud_conditions()
    e = {'id': nid(), 'key': key, 'layerId': nid(), 'status': status or R.choice(['Running'] * 6 + ['Paused', 'Launched', 'Not started', 'Archived']),
         'variations': vs, 'trafficAllocation': alloc(vs), 'audienceIds': ids_, 'forcedVariations': {}}
    if c is not None: e['audienceConditions'] = c
    if R.random() < 0.2: e['forcedVariations'] = {'user_%d' % R.randint(0, 9): R.choice([vs[0]['key'], 'missing_var'])}
    return e
experiments, rollouts, flags, groups = [], [], [], []
for f in range(R.randint(2, 5)):
    fk = 'flag_%d' % f
    fvars = variables()
    tests = []
    for t in range(R.randint(0, 3)):
        e = experiment('%s_test_%d' % (fk, t), fvars)
        r = R.random()
        if r < 0.12: e['type'] = 'fr'
        elif r < 0.2: e['cmab'] = {'attributeIds': [attributes[0]['id']], 'trafficAllocation': R.choice([3000, 10000, 0])}
        tests.append(e)
    rules = [experiment('%s_rule_%d' % (fk, r), fvars, status=R.choice(['Running', 'Running', 'Paused'])) for r in range(R.randint(0, 3))]
    ee = experiment('default-rollout-%s' % fk, fvars, status='Running'); ee.pop('audienceConditions', None); ee['audienceIds'] = []
    ee['variations'] = ee['variations'][:1]; ee['trafficAllocation'] = [{'entityId': ee['variations'][0]['id'], 'endOfRange': 10000}]
    rules.append(ee)
    rid = nid()
    rollouts.append({'id': rid, 'experiments': rules})
    if tests and R.random() < 0.25:
        gid = nid(); members = tests[:2]
        for m in members: m['groupId'] = gid
        ga, end = [], 0
        for m in members:
            end = min(10000, end + R.randint(2000, 5000)); ga.append({'entityId': m['id'], 'endOfRange': end})
        groups.append({'id': gid, 'policy': R.choice(['random', 'random', 'overlapping']), 'trafficAllocation': ga, 'experiments': [dict(m) for m in members]})
        for m in members: m.pop('groupId')
        experiments += tests[2:]
    else:
        experiments += tests
    flags.append({'id': nid(), 'key': fk, 'experimentIds': [t['id'] for t in tests], 'rolloutId': rid, 'variables': [v for v, _ in fvars]})
for a in range(R.randint(0, 2)): experiments.append(experiment('ab_%d' % a, []))
events = [{'id': nid(), 'key': 'purchase', 'experimentIds': []}, {'id': nid(), 'key': 'signup', 'experimentIds': []}]
df = {'version': '4', 'accountId': '1234', 'projectId': '5678', 'revision': str(seed), 'anonymizeIP': R.random() < 0.5,
      'sendFlagDecisions': R.random() < 0.6, 'attributes': attributes, 'audiences': audiences, 'typedAudiences': typed,
      'events': events, 'experiments': experiments, 'groups': groups, 'featureFlags': flags, 'rollouts': rollouts, 'integrations': []}
if R.random() < 0.7: df['botFiltering'] = R.random() < 0.5
json.dump(df, open(out + '.datafile.json', 'w'), indent=1)
def attrs():
    a = {}
    for k in ATTRS:
        if R.random() < 0.7:
            a[k] = R.choice({'browser': ['chrome', 'firefox', 'Chrome', 'safari'], 'age': [17, 18, 21, 30, 65, -5], 'ltv': [0.0, 99.99, 250.25, 100.01],
                             'app_version': ['1.2', '2.0.0', '2.1.0-beta', '3.0.0-rc.1', '1.2.3.4', '2.0.0-1', ''], 'plan': ['pro', 'free', 'pro-trial'],
                             'is_logged_in': [True, False], 'country': ['US', 'JP'], 'visits': [0, 1, 18, 99]}[k] + [None, True, 12, 1.5, 9007199254740993, {'$float': 'nan'}, 'str'])
    if R.random() < 0.1: a['$opt_bucketing_id'] = R.choice(['bk1', 7, ''])
    return a
OPTS = ['DISABLE_DECISION_EVENT', 'ENABLED_FLAGS_ONLY', 'IGNORE_USER_PROFILE_SERVICE', 'INCLUDE_REASONS', 'EXCLUDE_VARIABLES', 'UNKNOWN_OPT']
all_exp = experiments + [e for g in groups for e in g['experiments']] + [r for ro in rollouts for r in ro['experiments']]
calls = []
for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 150):
    u = 'user_%d' % R.randint(0, 9)
    op = R.choice(['decide'] * 5 + ['decide_for_keys', 'decide_all', 'activate', 'get_variation', 'track', 'is_feature_enabled', 'get_enabled_features',
                   'get_all_feature_variables', 'set_forced_variation', 'get_forced_variation', 'set_forced_decision', 'remove_forced_decision', 'remove_all_forced_decisions'])
    fkey = R.choice([f['key'] for f in flags] + ['no_such_flag'])
    opts = R.sample(OPTS, R.randint(0, 2))
    ek = R.choice([e['key'] for e in all_exp] + ['nope'])
    if op == 'decide': c = {'user_id': u, 'attributes': attrs(), 'flag_key': fkey, 'options': opts}
    elif op == 'decide_for_keys': c = {'user_id': u, 'attributes': attrs(), 'flag_keys': R.sample([f['key'] for f in flags] * 2 + ['nope'], R.randint(1, 4)), 'options': opts}
    elif op == 'decide_all': c = {'user_id': u, 'attributes': attrs(), 'options': opts}
    elif op in ('activate', 'get_variation'): c = {'experiment_key': ek, 'user_id': u, 'attributes': attrs()}
    elif op == 'track': c = {'event_key': R.choice(['purchase', 'signup', 'nope']), 'user_id': u, 'attributes': attrs(), 'event_tags': R.choice([None, {}, {'revenue': 100, 'value': '1.5'}, {'value': 2.5, 'x': 'y'}])}
    elif op in ('is_feature_enabled', 'get_all_feature_variables'): c = {'feature_key': fkey, 'user_id': u, 'attributes': attrs()}
    elif op == 'get_enabled_features': c = {'user_id': u, 'attributes': attrs()}
    elif op == 'set_forced_variation':
        e = [x for x in all_exp if x['key'] == ek]
        c = {'experiment_key': ek, 'user_id': u, 'variation_key': R.choice(([e[0]['variations'][0]['key']] * 3 if e else []) + [None, '', 'missing'])}
    elif op == 'get_forced_variation': c = {'experiment_key': ek, 'user_id': u}
    elif op == 'set_forced_decision':
        fl = [f for f in flags if f['key'] == fkey]
        rules = ([x['key'] for x in all_exp if x['id'] in fl[0]['experimentIds']] + [r['key'] for ro in rollouts if ro['id'] == fl[0]['rolloutId'] for r in ro['experiments']]) if fl else []
        vkeys = [v['key'] for x in all_exp for v in x['variations']]
        c = {'user_id': u, 'flag_key': fkey, 'rule_key': R.choice(rules + [None, None, 'nope']) if rules else None, 'variation_key': R.choice(vkeys + ['bogus'])}
    elif op == 'remove_forced_decision': c = {'user_id': u, 'flag_key': fkey, 'rule_key': None}
    else: c = {'user_id': u}
    c['op'] = op; calls.append(c)
inp = {'datafile': out.split('/')[-1] + '.datafile.json', 'calls': calls}
if R.random() < 0.5:
    prof = {}
    for e in all_exp[:3]:
        uid = 'user_%d' % R.randint(0, 9)
        prof.setdefault(uid, {'user_id': uid, 'experiment_bucket_map': {}})['experiment_bucket_map'][e['id']] = {'variation_id': R.choice([e['variations'][0]['id'], '424242'])}
    inp['user_profiles'] = prof
json.dump(inp, open(out + '.input.json', 'w'), indent=1)
