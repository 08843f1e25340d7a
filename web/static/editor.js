// The SOP editor (bpmn-js Modeler with a side panel) and the read-only version viewer.
//
// The diagram holds the flow, lanes (alur:role, alur:scope), SOP numbers
// (alur:step) and standard times (each step's non-interrupting timer). The
// page keeps a JSON model of the YAML's `steps` (Kelengkapan, Output, form,
// counting); the server writes it back into the YAML and validates both.
(function () {
  'use strict';

  const ALUR_URI = 'https://alur.id/schema/bpmn/1.0';
  // A moddle extension, so alur:* attributes are real properties that
  // survive editing and export (with the alur prefix) on every element.
  const ALUR_MODDLE = {
    name: 'Alur', uri: ALUR_URI, prefix: 'alur', xml: { tagAlias: 'lowerCase' },
    types: [
      { name: 'Step', extends: ['bpmn:UserTask'], properties: [{ name: 'step', isAttr: true, type: 'String' }] },
      {
        name: 'Actor', extends: ['bpmn:Lane'],
        properties: [{ name: 'role', isAttr: true, type: 'String' }, { name: 'scope', isAttr: true, type: 'String' }],
      },
    ],
  };
  const FIELD_TYPES = ['text', 'number', 'date', 'boolean', 'choice', 'file'];
  const MUTU = /^\s*(\d+)\s*(menit|jam|hari)(?:\s+(kerja|kalender))?\s*$/i;
  const ISO = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/;

  const modelerEl = document.getElementById('modeler');
  const viewerEl = document.getElementById('diagram');
  if (modelerEl && window.BpmnJS) startEditor(modelerEl);
  else if (viewerEl && window.BpmnJS) startViewer(viewerEl);

  async function startViewer(container) {
    const viewer = new BpmnJS({ container, moddleExtensions: { alur: ALUR_MODDLE } });
    try {
      const response = await fetch(container.dataset.src, { credentials: 'same-origin' });
      await viewer.importXML(await response.text());
    } catch (err) {
      container.textContent = (container.dataset.error || '') + ' ' + err.message;
      return;
    }
    viewer.get('canvas').zoom('fit-viewport');
    container.dataset.ready = 'true';
  }

  // The modeler's palette floats over the canvas's left edge: fit the diagram
  // into the room to its right, or the start event opens hidden under it.
  function fitBesidePalette(canvas, container) {
    canvas.zoom('fit-viewport');
    const palette = container.querySelector('.djs-palette');
    if (!palette) return;
    const margin = 16;
    const left = palette.getBoundingClientRect().right - container.getBoundingClientRect().left + margin;
    const inner = canvas.viewbox().inner;
    const { width, height } = canvas.getSize();
    const scale = Math.min((width - left - margin) / inner.width, (height - 2 * margin) / inner.height, 1);
    canvas.viewbox({ x: inner.x - left / scale, y: inner.y - margin / scale, width: width / scale, height: height / scale });
  }

  // -- standard time notation ------------------------------------------------

  function parseMutu(text) {
    const m = MUTU.exec(text || '');
    if (!m || parseInt(m[1], 10) <= 0) return null;
    const unit = m[2].charAt(0).toUpperCase() + m[2].slice(1).toLowerCase();
    const amount = parseInt(m[1], 10);
    const iso = unit === 'Hari' ? `P${amount}D` : `PT${amount}${unit === 'Jam' ? 'H' : 'M'}`;
    const working = m[3] ? m[3].toLowerCase() === 'kerja' : null;
    return { amount, unit, iso, working, text: `${amount} ${unit}` + (working === null ? '' : working ? ' Kerja' : ' Kalender') };
  }

  function isoToText(iso, counting) {
    const m = ISO.exec((iso || '').trim().replace(/^['"]|['"]$/g, '').toUpperCase());
    if (!m) return iso || '';
    const parts = [[m[1], 'Hari'], [m[2], 'Jam'], [m[3], 'Menit']].filter((p) => p[0]);
    if (parts.length !== 1) return iso;
    const [amount, unit] = parts[0];
    let suffix = '';
    if (counting && unit === 'Hari' && counting.days) suffix = counting.days === 'kerja' ? ' Kerja' : ' Kalender';
    if (counting && unit !== 'Hari' && counting.time) suffix = counting.time === 'kerja' ? ' Kerja' : ' Kalender';
    return `${parseInt(amount, 10)} ${unit}${suffix}`;
  }

  // -- the editor -------------------------------------------------------------

  async function startEditor(container) {
    // Shown again after a refused deploy, discard or answer, the page stood at that POST's address:
    // reloading sent it again, and staying signed in (keep.js) or renewing the form token asked it for
    // a page it does not have (405). The page takes the editor's own address.
    if (window.location.pathname !== container.dataset.page) history.replaceState(null, '', container.dataset.page);
    const L = JSON.parse(document.getElementById('editor-labels').textContent);
    const ROLES = JSON.parse(document.getElementById('editor-roles').textContent);
    let token = document.querySelector('meta[name=csrf-token]').content;
    const panel = document.getElementById('panel');
    const statusEl = document.getElementById('status');
    const deployButton = document.getElementById('deploy');
    const state = { steps: null, revision: 0, problems: [], dirty: false, hasDraft: false, selected: null };

    // (No keyboard.bindTo: bpmn-js 18 binds its shortcuts to the focused canvas and warns about the option.)
    const modeler = new BpmnJS({ container, moddleExtensions: { alur: ALUR_MODDLE } });
    window.alurModeler = modeler; // for tests and the browser console
    const modeling = modeler.get('modeling');
    const moddle = modeler.get('moddle');
    const registry = modeler.get('elementRegistry');
    const elementFactory = modeler.get('elementFactory');
    const overlays = modeler.get('overlays');
    const canvas = modeler.get('canvas');
    const selection = modeler.get('selection');

    let source;
    try {
      source = await (await fetch(container.dataset.source, { credentials: 'same-origin' })).json();
      await modeler.importXML(source.bpmn_xml);
    } catch (err) {
      container.textContent = L.load_failed + ' ' + err.message;
      return;
    }
    state.steps = source.steps;
    state.revision = source.revision || 0;
    state.problems = source.problems || [];
    state.hasDraft = source.origin === 'draft';
    fitBesidePalette(canvas, container);

    modeler.on('commandStack.changed', () => markDirty());
    modeler.on('selection.changed', (e) => {
      state.selected = e.newSelection.length === 1 ? e.newSelection[0] : null;
      renderPanel();
    });
    modeler.on('element.changed', (e) => {
      if (state.selected && e.element === state.selected && !panel.contains(document.activeElement)) renderPanel();
    });
    document.getElementById('save-draft').addEventListener('click', save);
    document.getElementById('deploy-form').addEventListener('submit', (e) => {
      if (deployButton.disabled) e.preventDefault();
      state.leaving = true;
    });
    const discard = document.getElementById('discard-form');
    if (discard) discard.addEventListener('submit', () => { state.leaving = true; });
    window.addEventListener('beforeunload', (e) => {
      if (state.dirty && !state.leaving) { e.preventDefault(); e.returnValue = L.leave; }
    });

    showProblems();
    showQuestions();
    renderPanel();
    updateButtons();
    container.dataset.ready = 'true';

    // -- helpers ---------------------------------------------------------------

    function markDirty() {
      state.dirty = true;
      statusEl.textContent = L.unsaved;
      updateButtons();
    }

    function updateButtons() {
      deployButton.disabled = state.dirty || !state.hasDraft || errorCount() > 0;
    }

    // A warning is shown with the problems but does not stop a deploy.
    function isWarning(p) { return p.severity === 'warning'; }
    function errorCount() { return state.problems.filter((p) => !isWarning(p)).length; }

    function is(element, type) {
      const bo = element && element.businessObject;
      return !!bo && typeof bo.$instanceOf === 'function' && bo.$instanceOf(type);
    }

    // The step's number as the server keys its details (engine/editor.py by_step_number): a diagram
    // from another tool may write step 10 as "010".
    function stepNumber(element) {
      const bo = element.businessObject;
      const value = bo.get('alur:step');
      const text = value === undefined || value === null ? '' : String(value).trim();
      return /^0+[1-9]\d*$/.test(text) ? text.replace(/^0+/, '') : text;
    }

    function findTimer(task) {
      return (task.attachers || []).find((a) => is(a, 'bpmn:BoundaryEvent') &&
        (a.businessObject.eventDefinitions || []).some((d) => d.$type === 'bpmn:TimerEventDefinition'));
    }

    function timerIso(timer) {
      const def = timer && timer.businessObject.eventDefinitions.find((d) => d.$type === 'bpmn:TimerEventDefinition');
      return def && def.timeDuration ? (def.timeDuration.body || '').trim() : '';
    }

    function stepModel(number, create) {
      if (!state.steps || !number) return null;
      if (!state.steps[number] && create) state.steps[number] = {};
      return state.steps[number] || null;
    }

    function el(tag, attrs, ...children) {
      const node = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) {
        if (k === 'text') node.textContent = v;
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else if (v === true) node.setAttribute(k, '');
        else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v);
      }
      for (const child of children) if (child) node.append(child);
      return node;
    }

    function field(label, input, hint) {
      return el('label', {}, document.createTextNode(label), input, hint ? el('small', { class: 'muted', text: hint }) : null);
    }

    function select(name, options, current, onchange) {
      const s = el('select', { name, onchange });
      const values = options.map((o) => o[0]);
      if (current && !values.includes(current)) options = [[current, current], ...options];
      for (const [value, text] of options) s.append(el('option', { value, text, selected: value === current }));
      return s;
    }

    // -- the side panel ---------------------------------------------------------

    function renderPanel() {
      panel.replaceChildren();
      const element = state.selected;
      if (!element || element.type === 'label') {
        panel.append(el('p', { class: 'muted', text: L.nothing }));
        return;
      }
      panel.dataset.element = element.id;
      const bo = element.businessObject;
      if (is(element, 'bpmn:Lane')) return laneForm(element, bo);
      if (is(element, 'bpmn:UserTask')) return taskForm(element, bo);
      if (is(element, 'bpmn:SequenceFlow')) return flowForm(element, bo);
      panel.append(el('h3', { text: bo.$type.replace('bpmn:', '') + ' · ' + element.id }));
      panel.append(nameField(element, bo));
    }

    function nameField(element, bo) {
      return field(L.name, el('input', {
        name: 'name', value: bo.name || '',
        onchange: (e) => modeling.updateLabel(element, e.target.value),
      }));
    }

    function laneForm(element, bo) {
      panel.append(el('h3', { text: L.lane + ' · ' + element.id }));
      panel.append(nameField(element, bo));
      // A lane divided into child lanes only groups them: they are the actors, with the roles.
      if (bo.childLaneSet && (bo.childLaneSet.lanes || []).length) {
        panel.append(el('p', { class: 'muted', text: L.parent_lane }));
        return;
      }
      panel.append(field(L.role, select('role', ROLES, bo.get('alur:role') || '',
        (e) => modeling.updateProperties(element, { 'alur:role': e.target.value }))));
      panel.append(field(L.scope, select('scope', [['bidang', L.scope_bidang], ['office', L.scope_office]],
        bo.get('alur:scope') || '', (e) => modeling.updateProperties(element, { 'alur:scope': e.target.value }))));
    }

    function taskForm(element, bo) {
      const number = stepNumber(element);
      panel.append(el('h3', { text: L.step + (number ? ' ' + number : '') + ' · ' + element.id }));
      panel.append(nameField(element, bo));
      const numberError = el('small', { class: 'field-error' });
      panel.append(field(L.number, el('input', {
        name: 'step', value: number, inputmode: 'numeric',
        onchange: (e) => changeNumber(element, number, e.target.value.trim(), numberError),
      }), null), numberError);

      const model = stepModel(number, false);
      const timer = findTimer(element);
      const mutuError = el('small', { class: 'field-error' });
      panel.append(field(L.mutu_baku, el('input', {
        name: 'mutu_baku', value: timer ? isoToText(timerIso(timer), model && model.counting) : '',
        placeholder: L.mutu_hint,
        onchange: (e) => changeMutu(element, number, e.target.value, mutuError),
      }), L.mutu_hint), mutuError);

      if (state.steps === null) {
        panel.append(el('p', { class: 'errors', text: L.no_yaml }));
        return;
      }
      const disabled = !number;
      for (const key of ['kelengkapan', 'output']) {
        panel.append(field(L[key], el('textarea', {
          name: key, rows: 2, disabled,
          onchange: (e) => { stepModel(number, true)[key] = e.target.value; markDirty(); },
        }, document.createTextNode((model && model[key]) || ''))));
      }
      panel.append(formEditor(number, disabled));
    }

    function changeNumber(element, old, value, errorEl) {
      errorEl.textContent = '';
      if (value && !/^[1-9]\d*$/.test(value)) { errorEl.textContent = L.number_invalid; return; }
      const taken = registry.filter((e) => is(e, 'bpmn:UserTask') && e !== element && stepNumber(e) === value);
      if (value && taken.length) { errorEl.textContent = L.number_taken; return; }
      if (state.steps && old && state.steps[old] && value && !state.steps[value]) {
        state.steps[value] = state.steps[old];
        delete state.steps[old];
      }
      modeling.updateProperties(element, { 'alur:step': value || undefined });
      renderPanel();
    }

    function changeMutu(element, number, text, errorEl) {
      errorEl.textContent = '';
      const parsed = parseMutu(text);
      if (!parsed) { errorEl.textContent = L.mutu_invalid; return; }
      let timer = findTimer(element);
      if (!timer) {
        const shape = elementFactory.createShape({ type: 'bpmn:BoundaryEvent', eventDefinitionType: 'bpmn:TimerEventDefinition' });
        shape.businessObject.cancelActivity = false;
        timer = modeling.createShape(shape, { x: element.x + element.width - 20, y: element.y + element.height }, element, { attach: true });
        statusEl.textContent = L.timer_created;
      }
      const definition = timer.businessObject.eventDefinitions.find((d) => d.$type === 'bpmn:TimerEventDefinition');
      modeling.updateProperties(timer, { cancelActivity: false });
      modeling.updateModdleProperties(timer, definition, {
        timeDuration: moddle.create('bpmn:FormalExpression', { body: parsed.iso }), timeDate: undefined, timeCycle: undefined,
      });
      modeling.updateLabel(timer, parsed.text);
      const model = stepModel(number, parsed.working !== null);
      if (model) {
        const key = parsed.unit === 'Hari' ? 'days' : 'time';
        const counting = Object.assign({}, model.counting || {});
        if (parsed.working === null) delete counting[key];
        else counting[key] = parsed.unit === 'Hari' ? (parsed.working ? 'kerja' : 'kalender') : (parsed.working ? 'kerja' : 'jam');
        if (Object.keys(counting).length) model.counting = counting; else delete model.counting;
        markDirty();
      }
    }

    function formEditor(number, disabled) {
      const box = el('div', { class: 'form-editor' }, el('h4', { text: L.form }));
      const model = stepModel(number, false);
      const fields = (model && Array.isArray(model.form)) ? model.form : [];
      fields.forEach((f, i) => {
        const update = (key, value) => { f[key] = value; markDirty(); };
        const row = el('fieldset', { class: 'form-field', 'data-index': i },
          field(L.field_name, el('input', { name: 'field_name', value: f.name || '', disabled, onchange: (e) => rename(fields, f, e.target.value.trim()) })),
          field(L.field_label, el('input', { name: 'field_label', value: f.label || '', disabled, onchange: (e) => update('label', e.target.value) })),
          field(L.field_type, Object.assign(select('field_type', FIELD_TYPES.map((t) => [t, t]), f.type || 'text', (e) => { retype(fields, f, e.target.value); renderPanel(); }), { disabled })),
          el('label', {}, el('input', { type: 'checkbox', name: 'field_required', checked: !!f.required, disabled, onchange: (e) => update('required', e.target.checked) }), document.createTextNode(' ' + L.field_required)),
          f.type === 'choice' ? field(L.field_choices, el('input', {
            name: 'field_choices', value: (f.choices || []).join(', '), disabled,
            onchange: (e) => update('choices', e.target.value.split(',').map((c) => c.trim()).filter(Boolean)),
          })) : null,
          field(L.field_help, el('input', { name: 'field_help', value: f.help || '', disabled, onchange: (e) => update('help', e.target.value) })),
          // An end date and its start: the form refuses an end before the start.
          f.type === 'date' ? field(L.field_not_before, Object.assign(select('field_not_before',
            [['', '—'], ...fields.filter((o) => o !== f && o.type === 'date' && o.name).map((o) => [o.name, o.label || o.name])],
            f.not_before || '', (e) => { if (e.target.value) update('not_before', e.target.value); else { delete f.not_before; markDirty(); } }), { disabled })) : null,
          // A count is never negative: the smallest number the form takes, or none.
          f.type === 'number' ? field(L.field_min, el('input', {
            name: 'field_min', type: 'number', step: 'any', value: f.min ?? '', disabled,
            onchange: (e) => { if (e.target.value === '') { delete f.min; markDirty(); } else update('min', Number(e.target.value)); },
          })) : null,
          // A count of people is whole: the form then refuses 12,5.
          f.type === 'number' ? el('label', {}, el('input', {
            type: 'checkbox', name: 'field_whole', checked: !!f.whole, disabled,
            onchange: (e) => { if (e.target.checked) update('whole', true); else { delete f.whole; markDirty(); } },
          }), document.createTextNode(' ' + L.field_whole)) : null,
          el('div', { class: 'field-buttons' },
            el('button', { type: 'button', class: 'secondary', disabled: disabled || i === 0, text: L.up, onclick: () => move(fields, i, -1) }),
            el('button', { type: 'button', class: 'secondary', disabled: disabled || i === fields.length - 1, text: L.down, onclick: () => move(fields, i, 1) }),
            el('button', { type: 'button', class: 'secondary', disabled, text: L.remove, onclick: () => { fields.splice(i, 1); forget(fields, f); markDirty(); renderPanel(); } })));
        box.append(row);
      });
      box.append(el('button', {
        type: 'button', class: 'secondary', name: 'add_field', disabled, text: L.add_field,
        onclick: () => {
          const m = stepModel(number, true);
          m.form = Array.isArray(m.form) ? m.form : [];
          m.form.push({ name: '', label: '', type: 'text' });
          markDirty();
          renderPanel();
        },
      }));
      return box;
    }

    // A field's keys that only some types take (min, whole: number; not_before: date) are shown only for
    // those types, so they go with the type: kept hidden, they were errors the panel offered no way to clear.
    function retype(fields, f, type) {
      f.type = type;
      if (type !== 'number') { delete f.min; delete f.whole; }
      if (type !== 'date') { delete f.not_before; forget(fields, f); }
      markDirty();
    }

    // Another date field's not_before follows a date field renamed ...
    function rename(fields, f, name) {
      const old = f.name;
      f.name = name;
      const following = fields.filter((o) => o !== f && old && o.not_before === old);
      following.forEach((o) => { if (name) o.not_before = name; else delete o.not_before; });
      markDirty();
      if (following.length) renderPanel();
    }

    // ... and is dropped with a date field removed or no longer a date.
    function forget(fields, f) {
      if (!f.name || fields.some((o) => o !== f && o.name === f.name && o.type === 'date')) return;
      fields.forEach((o) => { if (o !== f && o.not_before === f.name) delete o.not_before; });
    }

    function move(list, i, delta) {
      const [item] = list.splice(i, 1);
      list.splice(i + delta, 0, item);
      markDirty();
      renderPanel();
    }

    function flowForm(element, bo) {
      panel.append(el('h3', { text: L.flow + ' · ' + element.id }));
      panel.append(nameField(element, bo));
      const source = element.source;
      if (!source || !is(source, 'bpmn:ExclusiveGateway')) return;
      const current = bo.conditionExpression ? bo.conditionExpression.body || '' : '';
      panel.append(field(L.condition, el('input', {
        name: 'condition', value: current, placeholder: L.condition_hint,
        onchange: (e) => {
          const body = e.target.value.trim();
          modeling.updateProperties(element, {
            conditionExpression: body ? moddle.create('bpmn:FormalExpression', { body }) : undefined,
          });
        },
      }), L.condition_hint));
      panel.append(el('label', {}, el('input', {
        type: 'checkbox', name: 'default', checked: source.businessObject.default === bo,
        onchange: (e) => modeling.updateProperties(source, { default: e.target.checked ? bo : undefined }),
      }), document.createTextNode(' ' + L.default_flow)));
    }

    // -- saving and problems ----------------------------------------------------

    // After a session ran out, signing in (in another tab) made a new session with a new form token:
    // read it from this page served again, for the save and for the page's own forms. Only the same
    // user's session (someone else signing in on this computer must not save this diagram as theirs).
    async function renewToken() {
      const page = await fetch(window.location.href, { credentials: 'same-origin' });
      const served = new DOMParser().parseFromString(await page.text(), 'text/html');
      const fresh = served.querySelector('meta[name=csrf-token]');
      if (page.redirected || !page.ok || !fresh || served.body.dataset.user !== document.body.dataset.user) return false;
      markReached();  // keep.js: the session was renewed
      token = fresh.content;
      document.querySelectorAll('input[name=csrf_token]').forEach((input) => { input.value = token; });
      return true;
    }

    async function save() {
      statusEl.textContent = L.saving;
      let response, body;
      try {
        if (state.sessionEnded) {
          state.sessionEnded = !(await renewToken());
          if (state.sessionEnded) {
            statusEl.textContent = L.session_ended;
            return;
          }
        }
        const { xml } = await modeler.saveXML({ format: true });
        response = await fetch(container.dataset.save, {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token },
          body: JSON.stringify({ bpmn_xml: xml, steps: state.steps, revision: state.revision }),
        });
        // A page instead of JSON: the session ran out (the sign-in page, or the form check's 400).
        if (!(response.headers.get('Content-Type') || '').includes('application/json')) {
          state.sessionEnded = response.redirected || response.status === 400;
          statusEl.textContent = state.sessionEnded ? L.session_ended : L.save_failed + ' ' + response.status;
          return;
        }
        // The server answered the signed-in owner (even with a refusal): that renewed the session,
        // and the page's warning counts from now, as after loading a page (keep.js).
        markReached();
        body = await response.json();
      } catch (err) {
        statusEl.textContent = L.save_failed + ' ' + err.message;
        return;
      }
      if (!response.ok) {
        statusEl.textContent = L.save_failed + ' ' + (body.error || response.status);
        return;
      }
      state.revision = body.revision;
      state.problems = body.problems || [];
      state.hasDraft = true;
      state.dirty = false;
      statusEl.textContent = L.saved;
      document.getElementById('origin').textContent = L.origin_draft.replace('{revision}', String(body.revision));
      if (discard) discard.hidden = false;
      container.dataset.revision = String(body.revision);
      // Deploy, discard and the import's question forms act on the draft this page saved last,
      // not on a colleague's later save.
      document.querySelectorAll('form input[type=hidden][name=revision]')
        .forEach((input) => { input.value = String(body.revision); });
      // What is typed in the question form is kept against this revision now (keep.js).
      document.querySelectorAll('form[data-typed-stamp]')
        .forEach((form) => { form.dataset.typedStamp = String(body.revision); });
      showProblems();
      updateButtons();
    }

    // The import's open questions, pinned to their elements: a "?" that
    // leads to the question's answer field below the diagram.
    function showQuestions() {
      const questionsEl = document.getElementById('editor-questions');
      const questions = questionsEl ? JSON.parse(questionsEl.textContent) : [];
      const byElement = new Map();
      for (const q of questions) {
        if (registry.get(q.element)) byElement.set(q.element, (byElement.get(q.element) || []).concat([q]));
      }
      for (const [id, asked] of byElement) {
        const pin = el('button', {
          type: 'button', class: 'question-pin', 'data-element': id, 'data-questions': asked.map((q) => q.id).join(' '),
          title: L.question + ':\n' + asked.map((q) => q.text).join('\n'), text: '?',
          onclick: () => {
            const item = document.getElementById('question-' + asked[0].id);
            if (!item) return;
            item.scrollIntoView({ block: 'center' });
            const input = item.querySelector('select, input');
            if (input) input.focus();
          },
        });
        overlays.add(id, 'question', { position: { top: -12, left: -12 }, html: pin, scale: false });
      }
      for (const item of document.querySelectorAll('#questions .question')) {
        const target = registry.get(item.dataset.element);
        if (!target) continue;
        item.querySelector('p').addEventListener('click', () => { selection.select(target); canvas.scrollToElement(target); });
      }
    }

    // On a shape's top-right corner; a lane's reaches the canvas's right edge at the opening zoom, so
    // its badge sits inside its top-left corner, on its title band.
    function badgePlace(element) {
      return element.type === 'bpmn:Lane' || element.type === 'bpmn:Participant'
        ? { top: 4, left: 4 } : { top: -10, right: 10 };
    }

    function showProblems() {
      overlays.remove({ type: 'problem' });
      const list = document.getElementById('problem-list');
      list.replaceChildren();
      const byElement = new Map();
      for (const p of state.problems) {
        const target = p.element_id && registry.get(p.element_id);
        const item = el('li', { class: isWarning(p) ? 'problem warning' : 'problem', 'data-element': p.element_id || '' },
          el('b', { text: p.element }), document.createTextNode(': ' + (isWarning(p) ? L.warning + ': ' : '') + p.message));
        if (target) {
          item.classList.add('pinned');
          item.addEventListener('click', () => { selection.select(target); canvas.scrollToElement(target); });
          byElement.set(target.id, (byElement.get(target.id) || []).concat([p.message]));
        }
        list.append(item);
      }
      for (const [id, messages] of byElement) {
        const badge = el('div', { class: 'problem-badge', title: messages.join('\n'), text: String(messages.length) });
        overlays.add(id, 'problem', { position: badgePlace(registry.get(id)), html: badge, scale: false });
      }
      document.getElementById('problem-count').textContent = String(state.problems.length);
      const errors = errorCount(), warnings = state.problems.length - errors;
      document.getElementById('problem-summary').textContent = errors ? counted(L.problems_some, errors)
        : warnings ? counted(L.warnings_only, warnings) : (state.hasDraft ? L.problems_none : '');
    }

    // A count in words: `forms` are the catalogue's for one and for more (the UI's languages have no other).
    function counted(forms, n) { return forms[n === 1 ? 0 : 1].replace('{n}', String(n)); }
  }
})();
