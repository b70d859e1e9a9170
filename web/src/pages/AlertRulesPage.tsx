/**
 * A building's alert rules (route /buildings/:building/alert-rules/): each
 * with what it watches, severity and its condition in words in the user's
 * units.  Managers (and admins) switch rules on and off, edit, delete,
 * create any type of rule, and add the server's recommended rules from its
 * templates; everyone else reads.
 *
 * Requests: the building, its rules, points, equipment and zones (the
 * points give each threshold its canonical unit, and all three feed the
 * picker); the templates only when their checklist is opened.
 */
import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { hasRole } from '../api/client';
import type { AlertRule, RuleInput } from '../api/alerts';
import { createRule, deleteRule, listRules, patchRule, ruleTarget } from '../api/alerts';
import { useAuth, useClient } from '../auth/AuthContext';
import { AlertRuleForm, unitOfPoint } from '../components/AlertRuleForm';
import { AlertRuleTable } from '../components/AlertRuleTable';
import { AlertTemplates } from '../components/AlertTemplates';
import { ErrorBox, Loading, PageTitle } from '../components/ui';
import { usePrefs } from '../lib/prefs';
import { useAsync } from '../lib/useAsync';

type Editing = { rule: AlertRule | null } | null;

/** A merge patch of what a form changed: the fields it sends, id and type left out (they cannot change). */
function patchOf(r: RuleInput): Partial<RuleInput> {
  const { id: _id, type: _type, ...rest } = r;
  return rest;
}

export default function AlertRulesPage() {
  const { building: bid = '' } = useParams();
  const client = useClient();
  const { user } = useAuth();
  const { units } = usePrefs();
  const canEdit = hasRole(user?.roles, 'manager');
  const data = useAsync(async (signal) => {
    const [building, rules, points, equipment, zones] = await Promise.all([
      client.building(bid, signal),
      listRules(client, bid, signal),
      client.points({ building: bid }, signal),
      client.equipment({ building: bid }, signal),
      client.zones(bid, signal),
    ]);
    return { building, rules, model: { points, equipment, zones } };
  }, [bid]);
  const [rules, setRules] = useState<AlertRule[] | null>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const [done, setDone] = useState('');
  useEffect(() => setRules(data.data?.rules ?? null), [data.data]);

  const names = useMemo(() => {
    const m = data.data?.model;
    return {
      points: new Map((m?.points ?? []).map((p) => [p.id, p])),
      equipment: new Map((m?.equipment ?? []).map((e) => [e.id, e.name])),
      zones: new Map((m?.zones ?? []).map((z) => [z.id, z.name])),
    };
  }, [data.data]);

  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  if (!data.data || !rules) return <Loading label="Loading the alert rules…" />;
  const { building, model } = data.data;

  const unitOf = (r: AlertRule) => (r.type === 'comfort' || r.type === 'offline' ? '' : unitOfPoint(model.points, r.point));
  const watched = (r: AlertRule) => {
    const t = ruleTarget(r);
    if (!t) return null;
    const enc = encodeURIComponent;
    if (t.kind === 'equipment') return { to: names.equipment.has(t.id) ? `/equipment/${enc(t.id)}/` : null, label: names.equipment.get(t.id) ?? t.id };
    if (t.kind === 'zone') return { to: names.zones.has(t.id) ? `/zones/${enc(t.id)}/` : null, label: names.zones.get(t.id) ?? t.id };
    const p = names.points.get(t.id);
    if (!p) return { to: null, label: `${t.id} (not in the model)` };
    return { to: `/equipment/${enc(p.equipment)}/`, label: `${p.name} (${names.equipment.get(p.equipment) ?? p.equipment})` };
  };
  const replace = (r: AlertRule) => setRules((rs) => (rs ?? []).map((x) => (x.id === r.id ? r : x)));
  const reloadRules = () => {
    void listRules(client, bid).then(setRules, () => data.reload());
  };

  async function save(input: RuleInput) {
    const rule = editing?.rule;
    if (rule) {
      const r = await patchRule(client, rule.id, patchOf(input));
      replace(r);
      setDone(`Saved “${r.name}”.`);
    } else {
      // a new rule: only the fields given (null matters in a merge patch, not here)
      const given = Object.fromEntries(Object.entries(input).filter(([, x]) => x !== null)) as RuleInput;
      const r = await createRule(client, given);
      setRules((rs) => [...(rs ?? []), r]);
      setDone(`Created “${r.name}”.`);
    }
    setEditing(null);
  }

  return (
    <>
      <nav aria-label="Breadcrumb" className="muted mb-2 text-sm">
        <Link to="/" className="link">Portfolio</Link> /{' '}
        <Link to={`/buildings/${encodeURIComponent(building.id)}/`} className="link">{building.name}</Link> / Alert rules
      </nav>
      <PageTitle sub={`Thresholds shown in your units; sbems stores them in each point's own unit.${canEdit ? '' : ' Managers change rules.'}`}>
        Alert rules — {building.name}
      </PageTitle>
      <p className="mb-3 text-sm">
        <Link to={`/alerts/?building=${encodeURIComponent(building.id)}`} className="link">Open alerts of {building.name}</Link>
      </p>
      {canEdit && (
        <div className="mb-4 flex flex-wrap items-start gap-2">
          {!editing && <button type="button" className="btn-primary" onClick={() => { setDone(''); setEditing({ rule: null }); }}>New rule</button>}
          <AlertTemplates building={building.id} onApplied={reloadRules} />
        </div>
      )}
      {editing && (
        <div className="mb-4">
          <AlertRuleForm key={editing.rule?.id ?? 'new'} model={model} pref={units} rule={editing.rule}
                         onSubmit={save} onCancel={() => setEditing(null)} />
        </div>
      )}
      <p role="status" aria-live="polite" className="mb-2 text-sm">{done}</p>
      {rules.length === 0 ? (
        <p className="card text-sm">No alert rules in this building yet.{canEdit ? ' Add recommended rules or create one.' : ''}</p>
      ) : (
        <AlertRuleTable rules={rules} pref={units} unitOf={unitOf} watched={watched} canEdit={canEdit}
                        onToggle={async (r, enabled) => replace(await patchRule(client, r.id, { enabled }))}
                        onEdit={(r) => { setDone(''); setEditing({ rule: r }); }}
                        onDelete={async (r) => {
                          await deleteRule(client, r.id);
                          setRules((rs) => (rs ?? []).filter((x) => x.id !== r.id));
                          setDone(`Deleted “${r.name}”.`);
                        }} />
      )}
    </>
  );
}
