// The key state machine against KMIP 1.4 §3.22 / 2.1 §4.57 "State": the ten numbered transitions,
// written out here by hand from the spec text (not from src/kmip/lifecycle.ts), every other
// (state, event) pair forbidden ("Only the transitions described above are permitted"), and the
// date-driven transitions evaluated against a fake clock.
import { describe, expect, it } from 'vitest';
import { Enum } from '../../../src/kmip/registry.js';
import {
  Forbidden,
  LifecycleEvent,
  effectiveState,
  initialState,
  lifecycleView,
  revokeEvent,
  transition,
} from '../../../src/kmip/lifecycle.js';

type StateName = 'PreActive' | 'Active' | 'Deactivated' | 'Compromised' | 'Destroyed' | 'DestroyedCompromised';
type EventName = 'Activate' | 'ActivationDateReached' | 'DeactivationDateReached' | 'RevokeCompromise' | 'RevokeOther' | 'Destroy';

// [spec transition number, from, event, to]
const allowed: [number, StateName, EventName, StateName][] = [
  [2, 'PreActive', 'Destroy', 'Destroyed'],
  [3, 'PreActive', 'RevokeCompromise', 'Compromised'],
  [4, 'PreActive', 'ActivationDateReached', 'Active'],
  [4, 'PreActive', 'Activate', 'Active'],
  [5, 'Active', 'RevokeCompromise', 'Compromised'],
  [6, 'Active', 'DeactivationDateReached', 'Deactivated'],
  [6, 'Active', 'RevokeOther', 'Deactivated'],
  [7, 'Deactivated', 'Destroy', 'Destroyed'],
  [8, 'Deactivated', 'RevokeCompromise', 'Compromised'],
  [9, 'Compromised', 'Destroy', 'DestroyedCompromised'],
  [10, 'Destroyed', 'RevokeCompromise', 'DestroyedCompromised'],
];

const states: StateName[] = ['PreActive', 'Active', 'Deactivated', 'Compromised', 'Destroyed', 'DestroyedCompromised'];
const events: EventName[] = ['Activate', 'ActivationDateReached', 'DeactivationDateReached', 'RevokeCompromise', 'RevokeOther', 'Destroy'];

// State numbers as printed in 1.4 §9.1.3.2.18 State Enumeration (Table 306).
const stateValue: Record<StateName, number> = {
  PreActive: 1,
  Active: 2,
  Deactivated: 3,
  Compromised: 4,
  Destroyed: 5,
  DestroyedCompromised: 6,
};

const forbidden = states.flatMap((s) =>
  events.filter((e) => !allowed.some(([, f, ev]) => f === s && ev === e)).map((e): [StateName, EventName] => [s, e]),
);

describe('KMIP 1.4 §3.22 state transitions', () => {
  it('state enumeration values match the spec table', () => {
    for (const s of states) expect(Enum.State[s]).toBe(stateValue[s]);
  });

  it('the event vocabulary is exactly the hand-written one', () => {
    expect(Object.values(LifecycleEvent).sort()).toEqual([...events].sort());
  });

  it.each(allowed)('transition %i: %s --%s--> %s', (_n, from, event, to) => {
    expect(transition(stateValue[from], LifecycleEvent[event])).toBe(stateValue[to]);
  });

  it(`forbids the other ${forbidden.length} (state, event) pairs`, () => {
    expect(forbidden).toHaveLength(states.length * events.length - allowed.length);
    for (const [from, event] of forbidden) {
      expect(transition(stateValue[from], LifecycleEvent[event]), `${from} + ${event}`).toBe(Forbidden);
    }
  });

  it('notably: an Active key cannot be destroyed before it is deactivated or compromised', () => {
    expect(transition(stateValue.Active, LifecycleEvent.Destroy)).toBe(Forbidden);
    expect(transition(stateValue.PreActive, LifecycleEvent.DeactivationDateReached)).toBe(Forbidden);
    expect(transition(stateValue.DestroyedCompromised, LifecycleEvent.RevokeCompromise)).toBe(Forbidden);
  });

  it('an unknown state value permits nothing', () => {
    expect(transition(0, LifecycleEvent.Activate)).toBe(Forbidden);
    expect(transition(99, LifecycleEvent.Destroy)).toBe(Forbidden);
  });

  it('Revoke maps Key Compromise and CA Compromise to compromise, anything else to deactivation (1.4 §4.20)', () => {
    expect(revokeEvent(2)).toBe('RevokeCompromise'); // Key Compromise
    expect(revokeEvent(3)).toBe('RevokeCompromise'); // CA Compromise
    for (const code of [1, 4, 5, 6, 7]) expect(revokeEvent(code)).toBe('RevokeOther');
  });
});

describe('date-driven transitions with a fake clock', () => {
  const T = 1_700_000_000n; // seconds
  const at = (s: bigint) => Number(s) * 1000; // the clock is in ms

  it('transition 1: created Pre-Active, or Active when the Activation Date has already occurred', () => {
    expect(initialState(undefined, at(T))).toBe(stateValue.PreActive);
    expect(initialState(T + 1n, at(T))).toBe(stateValue.PreActive);
    expect(initialState(T, at(T))).toBe(stateValue.Active);
    expect(initialState(T - 100n, at(T))).toBe(stateValue.Active);
  });

  it('transition 4: Pre-Active becomes Active exactly when the Activation Date is reached', () => {
    const obj = { state: stateValue.PreActive, activationDate: T };
    expect(effectiveState(obj, at(T) - 1)).toBe(stateValue.PreActive);
    expect(effectiveState(obj, at(T))).toBe(stateValue.Active);
    expect(effectiveState(obj, at(T + 3600n))).toBe(stateValue.Active);
  });

  it('transition 6: Active becomes Deactivated at the Deactivation Date; both dates chain', () => {
    const obj = { state: stateValue.PreActive, activationDate: T, deactivationDate: T + 10n };
    expect(effectiveState(obj, at(T + 5n))).toBe(stateValue.Active);
    expect(effectiveState(obj, at(T + 10n))).toBe(stateValue.Deactivated);
    expect(effectiveState({ state: stateValue.Active, deactivationDate: T }, at(T))).toBe(stateValue.Deactivated);
  });

  it('equal activation and deactivation dates: the key ends Deactivated', () => {
    expect(effectiveState({ state: stateValue.PreActive, activationDate: T, deactivationDate: T }, at(T))).toBe(
      stateValue.Deactivated,
    );
  });

  it('a Deactivation Date reached while still Pre-Active changes nothing (no such transition)', () => {
    const obj = { state: stateValue.PreActive, activationDate: T + 100n, deactivationDate: T };
    expect(effectiveState(obj, at(T + 50n))).toBe(stateValue.PreActive);
    // Once the Activation Date is reached too, the already-reached Deactivation Date applies.
    expect(effectiveState(obj, at(T + 100n))).toBe(stateValue.Deactivated);
  });

  it('the Compromise Date (transitions 3, 5, 8, 10) compromises whatever state permits it', () => {
    expect(effectiveState({ state: stateValue.Active, compromiseDate: T }, at(T))).toBe(stateValue.Compromised);
    expect(effectiveState({ state: stateValue.Active, compromiseDate: T }, at(T) - 1)).toBe(stateValue.Active);
    expect(effectiveState({ state: stateValue.Destroyed, compromiseDate: T }, at(T))).toBe(stateValue.DestroyedCompromised);
    // Compromised at T+5, so reaching the Deactivation Date at T+10 no longer matters.
    const obj = { state: stateValue.PreActive, activationDate: T, compromiseDate: T + 5n, deactivationDate: T + 10n };
    expect(effectiveState(obj, at(T + 20n))).toBe(stateValue.Compromised);
  });

  it('terminal and manual states ignore dates', () => {
    expect(effectiveState({ state: stateValue.DestroyedCompromised, activationDate: T, compromiseDate: T }, at(T))).toBe(
      stateValue.DestroyedCompromised,
    );
    expect(effectiveState({ state: stateValue.Compromised, activationDate: T, deactivationDate: T }, at(T))).toBe(
      stateValue.Compromised,
    );
  });

  it('reads the dates from attribute instances', () => {
    const view = lifecycleView(stateValue.PreActive, [
      { name: 'Name', value: { type: 'Structure', value: [] } },
      { name: 'ActivationDate', value: { type: 'DateTime', value: T } },
      { name: 'DeactivationDate', value: { type: 'DateTime', value: T + 10n } },
    ]);
    expect(view).toEqual({ state: stateValue.PreActive, activationDate: T, deactivationDate: T + 10n });
    expect(effectiveState(view, at(T + 10n))).toBe(stateValue.Deactivated);
  });
});
