/** The front page: join with a code, or create a space as a steward. */
import { useEffect, useState } from 'preact/hooks';
import { api, html, render } from './lib/ui.ts';

interface Created {
  code: string;
  name: string;
  joinUrl: string;
  displayUrl: string;
  stewardUrl: string;
  qrSvgUrl: string;
  stewardToken: string;
}

function App() {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [capacity, setCapacity] = useState('');
  const [groups, setGroups] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  // Templates — "emotional environments" (SPEC Q14): the shipped ones, picked here.
  const [templates, setTemplates] = useState<{ name: string; title: string; description: string }[]>([]);
  const [template, setTemplate] = useState('');
  useEffect(() => {
    api<{ templates: { name: string; title: string; description: string }[] }>('/api/templates').then((r) => setTemplates(r.templates), () => setTemplates([]));
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { name: name.trim() };
      if (capacity.trim()) body.capacity = Number(capacity);
      const named = groups.split(',').map((g) => g.trim()).filter((g) => g.length > 0);
      if (named.length) body.groups = named;
      if (template) body.template = templates.find((t) => t.name === template);
      const c = await api<Created>('/api/spaces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      localStorage.setItem(`attune:${c.code}:steward`, c.stewardToken);
      setCreated(c);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <h1>attune</h1>
    <p class="muted">A shared emotional space: say how you feel, see the room's pulse.</p>
    <form class="card" onSubmit=${(e: Event) => {
      e.preventDefault();
      const c = code.toUpperCase().replace(/[^0-9A-Z]/g, '');
      if (c) location.href = `/j/${c}`;
    }}>
      <label for="code">Join with a code</label>
      <div class="row" style="flex-wrap:nowrap">
        <input id="code" autocomplete="off" autocapitalize="characters" value=${code} onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)} placeholder="e.g. 7KQ4-MZ9P" />
        <button type="submit">Join</button>
      </div>
    </form>
    ${
      created
        ? html`<div class="card" data-testid="created">
            <h2>${created.name}</h2>
            <p>Join code <code class="big" data-testid="created-code">${created.code}</code></p>
            <img src=${created.qrSvgUrl} alt="QR code for the join link" style="background:#fff;border-radius:10px;padding:8px;width:200px" />
            <p>Join: <a href=${created.joinUrl}>${created.joinUrl}</a><br />Display: <a href=${created.displayUrl}>${created.displayUrl}</a></p>
            <p><strong>Steward token</strong> (keep it secret — it closes the space):<br /><code style="word-break:break-all">${created.stewardToken}</code></p>
            <a class="button" href=${`${created.stewardUrl}#token=${created.stewardToken}`}>Open the steward page</a>
          </div>`
        : html`<form class="card" onSubmit=${create}>
            <h2>Start a space</h2>
            <label for="name">Name</label>
            <input id="name" required value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="Tuesday town hall" aria-describedby="name-note" />
            <p class="muted" id="name-note" style="margin:4px 0 0">The name is public: creating a space is written to the public log.</p>
            ${
              templates.length
                ? html`<label for="template">Template (optional)</label>
                  <select id="template" data-testid="template" value=${template} onChange=${(e: Event) => setTemplate((e.target as HTMLSelectElement).value)}>
                    <option value="">none — set it up yourself</option>
                    ${templates.map((t) => html`<option value=${t.name}>${t.title}</option>`)}
                  </select>
                  <p class="muted" style="margin:4px 0 0" data-testid="template-description">${templates.find((t) => t.name === template)?.description ?? 'A template brings its inputs, grid words, display mode, a council and the policies it proposes — every one of them on the public log.'}</p>`
                : null
            }
            <label for="cap">Capacity (optional)</label>
            <input id="cap" inputmode="numeric" pattern="[0-9]*" value=${capacity} onInput=${(e: Event) => setCapacity((e.target as HTMLInputElement).value)} placeholder="1000" />
            <label for="groups">Groups (optional, up to 8, comma-separated)</label>
            <input id="groups" value=${groups} onInput=${(e: Event) => setGroups((e.target as HTMLInputElement).value)} placeholder="east, west" aria-describedby="groups-note" data-testid="create-groups" />
            <p class="muted" id="groups-note" style="margin:4px 0 0">People may choose one when they join (or prefer not to say); each group's pulse is shown once enough of it share. Group names are public.</p>
            <p>${error ? html`<span class="error" role="alert">${error}</span>` : null}</p>
            <button type="submit" disabled=${busy}>${busy ? 'Creating…' : 'Create space'}</button>
          </form>`
    }
    <p class="muted"><a href="/audit">Public log of every governance act</a></p>
  `;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
