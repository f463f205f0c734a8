# Runs the calls of NAME.input.json on the official Python SDK (optimizely-sdk 5.7.0 from PyPI)
# and prints NAME.expected.jsonl in the format of ../decisions (uuids and timestamps of the k-th
# event by the fixtures' scheme). A CMAB prediction service is answered as unreachable.
# Usage: python3 reference.py NAME.input.json NAME.datafile.json [path/to/unpacked/sdk] > NAME.expected.jsonl
import json, sys, math, uuid as uuidmod
if len(sys.argv) > 3: sys.path.insert(0, sys.argv[3])  # an unpacked optimizely-sdk 5.7.0 wheel, else the installed one
from optimizely import optimizely
from optimizely.event import event_factory
from optimizely.helpers import enums
from optimizely.optimizely_user_context import OptimizelyUserContext
import optimizely.event.user_event as ue

counter = [0]
orig_init = ue.UserEvent.__init__
def patched(self, *a, **k):
    orig_init(self, *a, **k)
    counter[0] += 1
    self.uuid = '00000000-0000-4000-8000-%012d' % counter[0]
    self.timestamp = 1700000000000 + 1000 * counter[0]
ue.UserEvent.__init__ = patched

def unwrap(v):
    if isinstance(v, dict):
        if len(v) == 1 and '$float' in v: return float(v['$float'])
        if len(v) == 1 and '$int' in v: return int(v['$int'])
        return {k: unwrap(x) for k, x in v.items()}
    if isinstance(v, list): return [unwrap(x) for x in v]
    return v
def wrap(v):
    if isinstance(v, float) and not math.isfinite(v): return {'$float': 'nan' if math.isnan(v) else ('inf' if v > 0 else '-inf')}
    if isinstance(v, dict): return {k: wrap(x) for k, x in v.items()}
    if isinstance(v, list): return [wrap(x) for x in v]
    return v

class Capture:
    def __init__(self): self.events = []
    def process(self, user_event):
        log = event_factory.EventFactory.create_log_event(user_event, None)
        kind = 'impression' if isinstance(user_event, ue.ImpressionEvent) else 'conversion'
        self.events.append({'kind': kind, 'log_event': {'url': log.url, 'params': log.params}})
class UPS:
    def __init__(self, p): self.p = p
    def lookup(self, uid): return self.p.get(uid)
    def save(self, prof): self.p[prof['user_id']] = prof

inp = json.load(open(sys.argv[1]))
datafile = open(sys.argv[2]).read()
cap = Capture()
ups = UPS(inp['user_profiles']) if 'user_profiles' in inp else None
class FailingCmab:
    def get_decision(self, *a, **k): raise Exception('prediction service unreachable')
client = optimizely.Optimizely(datafile=datafile, event_processor=cap, user_profile_service=ups, cmab_service=FailingCmab())
notes = []
client.notification_center.add_notification_listener(enums.NotificationTypes.DECISION,
    lambda t, u, a, i: notes.append({'type': 'DECISION', 'decision_type': t, 'user_id': u, 'attributes': wrap(dict(a)), 'decision_info': wrap(i)}))
forced = {}
def ctx(c):
    u = client.create_user_context(c['user_id'], unwrap(c.get('attributes')))
    for (f, r), v in forced.get(c['user_id'], {}).items():
        u.set_forced_decision(OptimizelyUserContext.OptimizelyDecisionContext(f, r), OptimizelyUserContext.OptimizelyForcedDecision(v))
    return u
def dj(d): return {'flag_key': d.flag_key, 'enabled': d.enabled, 'variation_key': d.variation_key, 'rule_key': d.rule_key, 'variables': wrap(d.variables), 'reasons': d.reasons}
for i, c in enumerate(inp['calls']):
    cap.events = []; notes.clear(); op = c['op']
    try:
        if op == 'decide': r = dj(ctx(c).decide(c['flag_key'], c.get('options')))
        elif op in ('decide_for_keys', 'decide_all'):
            m = ctx(c).decide_for_keys(c['flag_keys'], c.get('options')) if op == 'decide_for_keys' else ctx(c).decide_all(c.get('options'))
            r = {'keys': list(m.keys()), 'decisions': {k: dj(d) for k, d in m.items()}}
        elif op == 'activate': r = {'variation_key': client.activate(c['experiment_key'], c['user_id'], unwrap(c.get('attributes')))}
        elif op == 'get_variation': r = {'variation_key': client.get_variation(c['experiment_key'], c['user_id'], unwrap(c.get('attributes')))}
        elif op == 'track': r = {'returned': client.track(c['event_key'], c['user_id'], unwrap(c.get('attributes')), unwrap(c.get('event_tags')))}
        elif op == 'is_feature_enabled': r = {'enabled': client.is_feature_enabled(c['feature_key'], c['user_id'], unwrap(c.get('attributes')))}
        elif op == 'get_enabled_features': r = {'features': client.get_enabled_features(c['user_id'], unwrap(c.get('attributes')))}
        elif op == 'get_all_feature_variables': r = {'values': wrap(client.get_all_feature_variables(c['feature_key'], c['user_id'], unwrap(c.get('attributes'))))}
        elif op == 'set_forced_variation': r = {'returned': client.set_forced_variation(c['experiment_key'], c['user_id'], c['variation_key'])}
        elif op == 'get_forced_variation': r = {'variation_key': client.get_forced_variation(c['experiment_key'], c['user_id'])}
        elif op == 'set_forced_decision':
            forced.setdefault(c['user_id'], {})[(c['flag_key'], c.get('rule_key'))] = c['variation_key']; r = {'returned': True}
        elif op == 'remove_forced_decision':
            r = {'returned': forced.get(c['user_id'], {}).pop((c['flag_key'], c.get('rule_key')), None) is not None}
        elif op == 'remove_all_forced_decisions': forced.pop(c['user_id'], None); r = {'returned': True}
    except Exception as e:
        r = {'RAISED': repr(e)}
    print(json.dumps({'call': i, 'op': op, 'result': r, 'events': cap.events, 'notifications': list(notes)}, sort_keys=True))
