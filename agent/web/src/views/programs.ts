// The programs section of a twin's page: a form per declared program, generated from its
// parameters and bounds; each argument is checked before sending, and a call's status is
// followed live until the device's outcome is final.

import type { ApiPromise } from '@polkadot/api';
import { button, form, h } from '../dom';
import { fixedText, parseArgument, readCall, readPrograms, type ArgumentValue, type Parameter, type Program } from '../programs';
import type { Session } from '../session';
import { eventNumber, submit } from '../tx';
import { errorText } from '../text';

const FINAL = new Set(['Completed', 'Failed', 'Cancelled', 'Expired']);

export async function programsSection(api: ApiPromise, you: Session, twin: number): Promise<HTMLElement | null> {
  const programs = await readPrograms(api, twin);
  if (!programs.length) return null;
  return h('section', { id: 'programs' }, h('h3', {}, 'Programs'), programs.map((program) => programForm(api, you, twin, program)));
}

function bounds(parameter: Parameter): string {
  const decimals = 'decimal' in parameter.kind ? parameter.kind.decimal.decimals : 0;
  const parts = [];
  if (parameter.min !== null) parts.push(`from ${fixedText(parameter.min, decimals)}`);
  if (parameter.max !== null) parts.push(`to ${fixedText(parameter.max, decimals)}`);
  if (parameter.allowed.length) parts.push(`one of ${parameter.allowed.join(', ')}`);
  return `${parts.join(' ')}${parameter.unit ? ` ${parameter.unit}` : ''}`;
}

function programForm(api: ApiPromise, you: Session, twin: number, program: Program): HTMLElement {
  const inputs = program.parameters.map((parameter) => {
    const input =
      'boolean' in parameter.kind
        ? h('input', { type: 'checkbox', name: parameter.name })
        : parameter.allowed.length
          ? h('select', { name: parameter.name }, parameter.allowed.map((value) => h('option', { value }, value)))
          : h('input', { type: 'text', name: parameter.name, inputmode: 'text' in parameter.kind ? 'text' : 'decimal' });
    return { parameter, input };
  });
  const outcome = h('p', { class: 'call-status' });
  const call = async () => {
    outcome.className = 'call-status';
    const args: { name: string; value: ArgumentValue }[] = [];
    for (const { parameter, input } of inputs) {
      const typed = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value;
      const parsed = parseArgument(parameter, typed);
      if ('error' in parsed) {
        outcome.textContent = `Not sent: ${parsed.error}.`;
        outcome.className = 'call-status refusal';
        return;
      }
      args.push({ name: parameter.name, value: parsed.value });
    }
    try {
      const finalized = await submit(api, you.signer, api.tx.programs.callProgram(twin, program.element, program.name, args), (status) => {
        outcome.textContent = `Call: ${status}…`;
      });
      const id = eventNumber(finalized, api.events.programs.ProgramCallQueued, 'call');
      outcome.dataset.call = String(id);
      await follow(api, id, (state) => {
        outcome.textContent = `Call ${id}: ${state.status}${state.result ? `: ${state.result}` : ''}`;
        outcome.dataset.status = state.status;
      });
    } catch (error) {
      outcome.textContent = `Call refused: ${errorText(error)}`;
      outcome.className = 'call-status refusal';
    }
  };
  return form(
    { class: 'program', 'data-program': program.name, 'data-element': program.element },
    () => void call(),
    h('strong', {}, program.name),
    ` on ${program.element}: `,
    inputs.map(({ parameter, input }) => h('label', {}, `${parameter.name} `, input, ` ${bounds(parameter)} `)),
    button('Call', 'call', call),
    outcome,
  );
}

/** Reports the call's state at each finalized block until it is final. */
async function follow(api: ApiPromise, id: number, report: (state: { status: string; result: string | null }) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let stop: (() => void) | null = null;
    let done = false;
    api.rpc.chain
      .subscribeFinalizedHeads(async () => {
        try {
          const state = await readCall(api, id);
          if (!state || done) return;
          report(state);
          if (FINAL.has(state.status)) {
            done = true;
            stop?.();
            resolve();
          }
        } catch (error) {
          stop?.();
          reject(error);
        }
      })
      .then((unsubscribe) => {
        stop = unsubscribe;
        if (done) unsubscribe();
      }, reject);
  });
}
