# Writes the checklist datafiles and inputs (run in the fixture folder); reference.py makes the expected lines.
import json
def exp(id_, key, variations, alloc, status='Running', aud_ids=None, conds=None, forced=None, layer=None, **extra):
    e = {'id': id_, 'key': key, 'layerId': layer or ('L' + id_), 'status': status,
         'variations': variations, 'trafficAllocation': [{'entityId': a, 'endOfRange': b} for a, b in alloc],
         'audienceIds': aud_ids or [], 'forcedVariations': forced or {}}
    if conds is not None: e['audienceConditions'] = conds
    e.update(extra)
    return e
def var(id_, key, enabled=None, variables=None):
    v = {'id': id_, 'key': key}
    if enabled is not None: v['featureEnabled'] = enabled
    if variables is not None: v['variables'] = [{'id': a, 'value': b} for a, b in variables]
    return v
cond = lambda name, match, value: {'name': name, 'type': 'custom_attribute', 'match': match, 'value': value}
df = {
 'version': '4', 'accountId': '9000', 'projectId': '9001', 'revision': '7', 'anonymizeIP': False, 'botFiltering': False,
 'sendFlagDecisions': True, 'sdkKey': 'checklist', 'environmentKey': 'test', 'integrations': [],
 'attributes': [{'id': '8001', 'key': 'browser'}, {'id': '8002', 'key': 'age'}, {'id': '8003', 'key': 'app_version'}, {'id': '8004', 'key': 'is_logged_in'}],
 'audiences': [
   {'id': '7001', 'name': 'firefox', 'conditions': json.dumps(['and', ['or', ['or', cond('browser', 'exact', 'firefox')]]])},
   {'id': '7002', 'name': 'chrome', 'conditions': json.dumps(['and', ['or', ['or', cond('browser', 'exact', 'chrome')]]])},
   {'id': '7003', 'name': 'Optimizely-Generated Audience for Backwards Compatibility', 'conditions': json.dumps(['or', cond('$opt_dummy_attribute', 'exact', 'impossible_value')])},
   {'id': '7005', 'name': 'logged in', 'conditions': json.dumps(['and', ['or', ['or', cond('is_logged_in', 'exact', True)]]])},
 ],
 'typedAudiences': [
   {'id': '7003', 'name': 'adults on 2.x', 'conditions': ['and', cond('age', 'ge', 18), cond('app_version', 'semver_ge', '2.0.0')]},
   {'id': '7004', 'name': 'bare leaf', 'conditions': cond('age', 'lt', 13)},
 ],
 'events': [{'id': '6001', 'key': 'purchase', 'experimentIds': []}],
 'experiments': [
   exp('5001', 'holey_test', [var('5101', 'v1'), var('5102', 'v2')], [('5101', 3000), ('', 5000), ('5102', 8000)]),
   exp('5002', 'launched_test', [var('5201', 'only')], [('5201', 10000)], status='Launched'),
   exp('5003', 'paused_test', [var('5301', 'only')], [('5301', 10000)], status='Paused'),
   exp('5004', 'whitelist_test', [var('5401', 'w_a'), var('5402', 'w_b')], [('5401', 5000), ('5402', 10000)],
       aud_ids=['7002'], conds=['or', '7002'], forced={'wl_user': 'w_b', 'wl_missing': 'no_such_variation'}),
   exp('5005', 'adults_test', [var('5501', 'a_on')], [('5501', 10000)], conds=['and', '7003', ['not', '7004']]),
   exp('5006', 'ft_1', [var('5601', 'ft1_on', True, [('4001', 'red')])], [('5601', 10000)], aud_ids=['7001'], conds=['or', '7001']),
   exp('5007', 'ft_2', [var('5701', 'ft2_on', True, [('4001', 'blue'), ('4002', 'false'), ('4003', '7'), ('4004', '2.5'), ('4005', '{"k": 2}')]),
                        var('5702', 'ft2_off', False, [('4001', 'never shown')])], [('5701', 5000), ('5702', 10000)]),
   exp('5008', 'fr_test', [var('5801', 'fr_on', True)], [('5801', 3000)], type='fr'),
   exp('5009', 'cmab_test', [var('5901', 'c1', True)], [('5901', 10000)], cmab={'attributeIds': ['8001'], 'trafficAllocation': 5000}),
   exp('5010', 'paused_ft', [var('5111', 'pf_on', True)], [('5111', 10000)], status='Paused'),
   exp('5011', 'missing_audience_test', [var('5121', 'm_on')], [('5121', 10000)], conds=['or', '7001', '7999']),
 ],
 'groups': [{'id': '1901', 'policy': 'random', 'trafficAllocation': [{'entityId': '6201', 'endOfRange': 4000}, {'entityId': '6202', 'endOfRange': 8000}],
   'experiments': [exp('6201', 'group_exp_1', [var('6301', 'g1_a', True)], [('6301', 10000)]),
                   exp('6202', 'group_exp_2', [var('6302', 'g2_a', True)], [('6302', 10000)])]}],
 'featureFlags': [
   {'id': '3001', 'key': 'two_tests', 'experimentIds': ['5006', '5007'], 'rolloutId': '2002', 'variables': [
      {'id': '4001', 'key': 'color', 'type': 'string', 'defaultValue': 'grey'},
      {'id': '4002', 'key': 'flag_on', 'type': 'boolean', 'defaultValue': 'true'},
      {'id': '4003', 'key': 'count', 'type': 'integer', 'defaultValue': '1.5'},
      {'id': '4004', 'key': 'ratio', 'type': 'double', 'defaultValue': '1e3'},
      {'id': '4005', 'key': 'payload', 'type': 'string', 'subType': 'json', 'defaultValue': '{"k": 1}'},
      {'id': '4006', 'key': 'when', 'type': 'date', 'defaultValue': '2020-01-01'}]},
   {'id': '3002', 'key': 'rollout_flag', 'experimentIds': [], 'rolloutId': '2001', 'variables': []},
   {'id': '3003', 'key': 'fr_flag', 'experimentIds': ['5008'], 'rolloutId': '2003', 'variables': []},
   {'id': '3004', 'key': 'cmab_flag', 'experimentIds': ['5009'], 'rolloutId': '2004', 'variables': []},
   {'id': '3005', 'key': 'group_flag', 'experimentIds': ['6201', '6202'], 'rolloutId': '', 'variables': []},
   {'id': '3006', 'key': 'paused_flag', 'experimentIds': ['5010'], 'rolloutId': '', 'variables': []},
 ],
 'rollouts': [
   {'id': '2001', 'experiments': [
      exp('2101', 'r1', [var('2111', 'r1_on', True)], [('2111', 5000)], aud_ids=['7001'], conds=['or', '7001']),
      exp('2102', 'r2', [var('2121', 'r2_on', True)], [('2121', 10000)], status='Paused', aud_ids=['7002'], conds=['or', '7002']),
      exp('2103', 'everyone_else_1', [var('2131', 'off', False)], [('2131', 10000)])]},
   {'id': '2002', 'experiments': [exp('2201', 'everyone_else_2', [var('2211', 'off', False)], [('2211', 10000)])]},
   {'id': '2003', 'experiments': [exp('2301', 'everyone_else_3', [var('2311', 'fr_off', False)], [('2311', 10000)])]},
   {'id': '2004', 'experiments': [exp('2401', 'everyone_else_4', [var('2411', 'cm_off', False)], [('2411', 10000)])]},
 ],
}
json.dump(df, open('./checklist.datafile.json', 'w'), indent=1)
import json
C = []
def add(op, **kw): kw['op'] = op; C.append(kw)
R = ['INCLUDE_REASONS']
# Bucketing: holes, gaps, groups, bucketing id
for u in ['h1', 'h3', 'h11', 'h8']: add('activate', experiment_key='holey_test', user_id=u)
for u in ['g_user_1', 'g_user_2', 'g_user_3', 'g_user_5']:
    add('activate', experiment_key='group_exp_1', user_id=u); add('activate', experiment_key='group_exp_2', user_id=u)
    add('decide', user_id=u, flag_key='group_flag', options=R)
add('activate', experiment_key='holey_test', user_id='zzz', attributes={'$opt_bucketing_id': 'h1'})
add('decide', user_id='f1', attributes={'browser': 'chrome', '$opt_bucketing_id': 7}, flag_key='two_tests', options=R)
# Audiences
for a in [{'age': 30, 'app_version': '2.1'}, {'age': 17, 'app_version': '2.1'}, {'age': 30, 'app_version': '2.0.0-1'}, {'app_version': '2.1'},
          {'age': 30, 'app_version': '1.9.9'}, {'age': 30.0, 'app_version': '02.0'}, {'age': None, 'app_version': '2.1'}, {'age': True, 'app_version': '2.1'},
          {'age': 9007199254740992, 'app_version': '2.1'}, {'age': 9007199254740993, 'app_version': '2.1'}, {'age': {'$float': 'inf'}, 'app_version': '2.1'}]:
    add('activate', experiment_key='adults_test', user_id='aud_user_%d' % len(C), attributes=a)
for b in ['firefox', 'chrome', 'Firefox']: add('get_variation', experiment_key='missing_audience_test', user_id='m_user_' + b, attributes={'browser': b})
for u, b in [('wl_user', 'safari'), ('wl_missing', 'chrome'), ('wl_missing', 'safari')]:
    add('activate', experiment_key='whitelist_test', user_id=u, attributes={'browser': b})
# Experiments: status, forced variations
for k in ['launched_test', 'paused_test']: add('activate', experiment_key=k, user_id='s_user')
add('set_forced_variation', experiment_key='paused_test', user_id='s_user', variation_key='only')
add('activate', experiment_key='paused_test', user_id='s_user')
add('set_forced_variation', experiment_key='whitelist_test', user_id='wl_user', variation_key='w_a')
add('activate', experiment_key='whitelist_test', user_id='wl_user', attributes={'browser': 'safari'})
add('get_forced_variation', experiment_key='whitelist_test', user_id='wl_user')
add('set_forced_variation', experiment_key='whitelist_test', user_id='wl_user', variation_key=None)
add('get_forced_variation', experiment_key='whitelist_test', user_id='wl_user')
add('set_forced_variation', experiment_key='whitelist_test', user_id='wl_user', variation_key='')
add('set_forced_variation', experiment_key='whitelist_test', user_id='wl_user', variation_key='no_such')
add('set_forced_variation', experiment_key='no_such_experiment', user_id='wl_user', variation_key='w_a')
add('set_forced_variation', experiment_key='ft_2', user_id='forced_ft', variation_key='ft2_off')
add('decide', user_id='forced_ft', attributes={'browser': 'chrome'}, flag_key='two_tests', options=R)
add('activate', experiment_key='everyone_else_1', user_id='rule_user')
add('activate', experiment_key='r2', user_id='rule_user', attributes={'browser': 'chrome'})
# Flags: feature tests then rollout with the jump
for u, b in [('f1', 'firefox'), ('f3', 'firefox'), ('f5', 'chrome'), ('f2', None)]:
    add('decide', user_id=u, attributes={'browser': b} if b else {}, flag_key='rollout_flag', options=R)
for u, b, o in [('f1', 'firefox', R), ('f1', 'chrome', R), ('f6', 'chrome', R), ('f6', 'chrome', ['EXCLUDE_VARIABLES']), ('f6', 'chrome', ['DISABLE_DECISION_EVENT'])]:
    add('decide', user_id=u, attributes={'browser': b}, flag_key='two_tests', options=o)
for u in ['f1', 'f6']:
    add('is_feature_enabled', feature_key='two_tests', user_id=u, attributes={'browser': 'chrome'})
    add('get_all_feature_variables', feature_key='two_tests', user_id=u, attributes={'browser': 'chrome'})
    add('get_enabled_features', user_id=u, attributes={'browser': 'firefox'})
for u in ['f4', 'f1']:
    add('decide', user_id=u, flag_key='fr_flag', options=R)
    add('is_feature_enabled', feature_key='fr_flag', user_id=u)
    add('decide', user_id=u, flag_key='cmab_flag', options=[])
    add('activate', experiment_key='cmab_test', user_id=u)
    add('is_feature_enabled', feature_key='cmab_flag', user_id=u)
add('decide_all', user_id='f4', attributes={'browser': 'chrome'}, options=['ENABLED_FLAGS_ONLY'])
add('decide_all', user_id='f4', attributes={'browser': 'chrome'}, options=[])
# Forced decisions
add('decide', user_id='p_user', flag_key='paused_flag', options=R)
add('set_forced_decision', user_id='p_user', flag_key='paused_flag', rule_key='paused_ft', variation_key='pf_on')
add('decide', user_id='p_user', flag_key='paused_flag', options=R)
add('set_forced_decision', user_id='fd_user', flag_key='two_tests', variation_key='ft2_on')
add('decide', user_id='fd_user', attributes={'browser': 'firefox'}, flag_key='two_tests', options=R)
add('set_forced_decision', user_id='fd_user', flag_key='two_tests', variation_key='bogus')
add('decide', user_id='fd_user', attributes={'browser': 'firefox'}, flag_key='two_tests', options=R)
add('set_forced_decision', user_id='fd_user', flag_key='rollout_flag', rule_key='everyone_else_1', variation_key='r1_on')
add('decide', user_id='fd_user', attributes={'browser': 'safari'}, flag_key='rollout_flag', options=R)
add('decide', user_id='fd_user', attributes={'browser': 'firefox'}, flag_key='rollout_flag', options=R)
add('set_forced_decision', user_id='fd_user', flag_key='two_tests', rule_key='ft_1', variation_key='ft2_off')
add('decide', user_id='fd_user', attributes={'browser': 'safari'}, flag_key='two_tests', options=R)
add('is_feature_enabled', feature_key='two_tests', user_id='fd_user', attributes={'browser': 'safari'})
add('remove_forced_decision', user_id='fd_user', flag_key='two_tests', rule_key=None)
add('remove_forced_decision', user_id='fd_user', flag_key='two_tests', rule_key=None)
add('remove_all_forced_decisions', user_id='fd_user')
add('decide_for_keys', user_id='f1', attributes={'browser': 'firefox'}, flag_keys=['two_tests', 'nope', 'paused_flag', 'two_tests', 'rollout_flag'], options=['ENABLED_FLAGS_ONLY'])
add('decide_for_keys', user_id='f1', attributes={'browser': 'firefox'}, flag_keys=['nope', 'rollout_flag'], options=['INCLUDE_REASONS'])
add('decide', user_id='f1', flag_key='nope', options=[])
UPS_START = len(C)
# User profiles
add('decide', user_id='ups_user', attributes={'browser': 'chrome'}, flag_key='two_tests', options=R)
add('decide', user_id='ups_bad', attributes={'browser': 'chrome'}, flag_key='two_tests', options=R)
add('decide', user_id='ups_bad', attributes={'browser': 'chrome'}, flag_key='two_tests', options=['IGNORE_USER_PROFILE_SERVICE', 'INCLUDE_REASONS'])
add('decide', user_id='ups_user', attributes={'browser': 'chrome'}, flag_key='two_tests', options=['IGNORE_USER_PROFILE_SERVICE', 'INCLUDE_REASONS'])
add('activate', experiment_key='holey_test', user_id='h1')
add('activate', experiment_key='holey_test', user_id='h1')
# Track
add('track', event_key='purchase', user_id='t_user', attributes={'browser': 'chrome', 'age': 31}, event_tags={'revenue': 1999, 'value': '19.5', 'note': 'x'})
add('track', event_key='no_such_event', user_id='t_user')
profiles = {'ups_user': {'user_id': 'ups_user', 'experiment_bucket_map': {'5007': {'variation_id': '5702'}}},
            'ups_bad': {'user_id': 'ups_bad', 'experiment_bucket_map': {'5007': {'variation_id': '5999'}}}}
json.dump({'datafile': 'checklist.datafile.json', 'calls': C[:UPS_START]}, open('./checklist.input.json', 'w'), indent=1)
json.dump({'datafile': 'checklist.datafile.json', 'calls': C[UPS_START:] + [
    dict(op='activate', experiment_key='whitelist_test', user_id='sticky', attributes={'browser': 'chrome'}),
    dict(op='activate', experiment_key='whitelist_test', user_id='sticky', attributes={'browser': 'safari'}),
    dict(op='decide_all', user_id='sticky', attributes={'browser': 'chrome'}, options=[]),
    dict(op='decide_all', user_id='sticky', attributes={'browser': 'firefox'}, options=['INCLUDE_REASONS']),
    dict(op='is_feature_enabled', feature_key='two_tests', user_id='sticky2', attributes={'browser': 'firefox'}),
    dict(op='decide', user_id='sticky2', attributes={'browser': 'chrome'}, flag_key='two_tests', options=['INCLUDE_REASONS'])],
    'user_profiles': profiles}, open('./checklist-profiles.input.json', 'w'), indent=1)
quiet = [c for c in C[:UPS_START] if c['op'] in ('decide', 'decide_all', 'decide_for_keys', 'is_feature_enabled', 'set_forced_decision', 'get_enabled_features')]
df = json.load(open('./checklist.datafile.json')); df['sendFlagDecisions'] = False; df['revision'] = '8'
json.dump(df, open('./checklist-quiet.datafile.json', 'w'), indent=1)
json.dump({'datafile': 'checklist-quiet.datafile.json', 'calls': quiet}, open('./checklist-quiet.input.json', 'w'), indent=1)
print(len(C), len(quiet))
