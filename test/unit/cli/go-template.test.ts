import { describe, expect, it } from 'vitest';
import { formatTemplate } from '../../../src/cli/go-template.js';

const data = { State: { Pid: 42, Running: true }, Name: '/web', Config: { Env: ['A=1'] }, Nothing: null };

describe('formatTemplate', () => {
  it('follows field paths, as docker --format does', () => {
    expect(formatTemplate('{{.State.Pid}} {{ .Name }} {{.State.Running}}', data)).toBe('42 /web true');
  });

  it('prints json of a value on request, and objects as json anyway', () => {
    expect(formatTemplate('{{json .Config.Env}}', data)).toBe('["A=1"]');
    expect(formatTemplate('{{.Config}}', data)).toBe('{"Env":["A=1"]}');
    expect(formatTemplate('{{.Nothing}}', data)).toBe('null');
  });

  it('reads "\\n" in the template as a line break, and leaves the values\' JSON as it is', () => {
    expect(formatTemplate('{{.Name}}\\n{{.State.Pid}}', data)).toBe('/web\n42');
    expect(formatTemplate('{{json .Env}}', { Env: ['A=1\nB=2'] })).toBe('["A=1\\nB=2"]');
    expect(JSON.parse(formatTemplate('{{json .}}', { '\\n': false }))).toEqual({ '\\n': false });
  });

  it('names a field that does not exist', () => {
    expect(() => formatTemplate('{{.State.Nope}}', data)).toThrow(/can't evaluate field Nope in .State.Nope/);
  });

  it('finds only the data\'s own fields, never what every object inherits', () => {
    expect(() => formatTemplate('{{.constructor}}', data)).toThrow(/can't evaluate field constructor in .constructor/);
    expect(() => formatTemplate('{{json .State.__proto__}}', data)).toThrow(/can't evaluate field __proto__ in .State.__proto__/);
  });
});
