/**
 * Deterministic generator for the bundled demo instance "Acme Outdoor".
 *
 * Writes the CSV files that `examples/demo/data_description.md` describes:
 * customers, products, orders, order lines (one file per month), web events
 * and a private customer credit table. Everything comes from seeded PRNG
 * streams and fixed reference dates, so two runs give byte-identical files.
 *
 *   npx tsx examples/demo/generate.ts [outDir]     (default examples/demo/csv)
 */
import { realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DemoResult {
  /** Written files, relative to the output directory, `/`-separated, sorted. */
  files: string[];
  /** Data rows (header excluded) per table name. */
  rows: Record<string, number>;
}

/** Header of each generated table, in file order. */
export const DEMO_COLUMNS = {
  customers: ['customer_id', 'name', 'email', 'country', 'city', 'segment', 'signup_date', 'is_active', 'notes'],
  products: ['product_id', 'sku', 'name', 'category', 'price', 'launched_on', 'discontinued'],
  orders: ['order_id', 'customer_id', 'ordered_at', 'status', 'channel', 'shipping_country', 'total_amount', 'coupon_code'],
  order_lines: ['order_id', 'line_no', 'product_id', 'quantity', 'unit_price', 'discount', 'ordered_at'],
  web_events: ['event_id', 'occurred_at', 'session_id', 'customer_id', 'page', 'referrer', 'device'],
  customer_credit: ['customer_id', 'credit_limit', 'risk_score'],
} as const;

/** Name of a generated table. */
export type DemoTable = keyof typeof DEMO_COLUMNS;

/** Fixed sizes and reference dates (UTC). */
export const DEMO_COUNTS = { customers: 500, products: 80, orders: 3000, web_events: 3000 } as const;
const ORDERS_FROM = Date.UTC(2024, 0, 1);
const ORDERS_TO = Date.UTC(2026, 0, 1); // exclusive
const REFERENCE_NOW = Date.UTC(2025, 11, 31, 23, 59, 59);
const EVENTS_FROM = Date.UTC(2025, 10, 2); // last 60 days of 2025
const SIGNUP_FROM = Date.UTC(2021, 2, 1);
const SIGNUP_TO = Date.UTC(2025, 10, 30);
const DAY = 86_400_000;


/** mulberry32: a small, fast, seedable 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
}


type Cell = string | number | null;

/** RFC 4180 field: quoted when it holds the delimiter, a quote or a line break; quotes doubled. Null is an empty field. */
function csvField(value: Cell): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`row has ${row.length} cells, expected ${columns.length}`);
    lines.push(row.map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const isoTimestamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const monthKey = (ms: number): string => new Date(ms).toISOString().slice(0, 7);
/** Integer cents → `123.45`. */
const money = (cents: number): string => `${Math.floor(cents / 100)}.${pad(cents % 100)}`;
const rate = (r: number): string => r.toFixed(2);
const asciiFold = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ø/g, 'o').replace(/ß/g, 'ss');


interface Country {
  code: string;
  weight: number;
  cities: string[];
  first: string[];
  last: string[];
}

const COUNTRIES: Country[] = [
  { code: 'US', weight: 34, cities: ['Denver', 'Seattle', 'Portland', 'Boulder', 'Salt Lake City', 'Asheville', 'Bend'],
    first: ['Emma', 'Liam', 'Olivia', 'Noah', 'Ava', 'Ethan', 'Mia', 'Lucas', 'Harper', 'Mason', 'Ella', 'Logan'],
    last: ['Smith', 'Johnson', 'Miller', 'Davis', 'Garcia', 'Wilson', "O'Brien", 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Clark'] },
  { code: 'CA', weight: 10, cities: ['Vancouver', 'Calgary', 'Montréal', 'Québec', 'Whistler'],
    first: ['Chloé', 'Félix', 'Olivia', 'William', 'Zoë', 'Jacob', 'Léa', 'Nathan'],
    last: ['Tremblay', 'Gagnon', 'Roy', 'Côté', 'MacDonald', 'Bouchard', 'Campbell', 'Lévesque'] },
  { code: 'GB', weight: 12, cities: ['London', 'Manchester', 'Edinburgh', 'Bristol', 'Keswick'],
    first: ['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Freya', 'Jack', 'Poppy'],
    last: ['Jones', 'Williams', 'Brown', 'Evans', 'Wright', 'Walker', 'Hughes', 'Robinson'] },
  { code: 'DE', weight: 12, cities: ['München', 'Berlin', 'Hamburg', 'Freiburg', 'Garmisch-Partenkirchen'],
    first: ['Jürgen', 'Lena', 'Lukas', 'Sophie', 'Jonas', 'Hannah', 'Björn', 'Marie'],
    last: ['Müller', 'Schröder', 'Schmidt', 'Wagner', 'Becker', 'Hoffmann', 'Schäfer', 'Köhler'] },
  { code: 'FR', weight: 8, cities: ['Lyon', 'Grenoble', 'Paris', 'Chamonix', 'Annecy'],
    first: ['Renée', 'Théo', 'Camille', 'Hugo', 'Inès', 'Louis', 'Élodie', 'Jules'],
    last: ['Martin', 'Bernard', 'Lefèvre', 'Dubois', 'Moreau', 'Girard', 'Fontaine', 'Rousseau'] },
  { code: 'ES', weight: 7, cities: ['Madrid', 'Barcelona', 'A Coruña', 'Granada', 'Logroño'],
    first: ['José', 'María', 'Íñigo', 'Lucía', 'Martín', 'Sofía', 'Pablo', 'Begoña'],
    last: ['Muñoz', 'Peña', 'García', 'Núñez', 'Fernández', 'Ibáñez', 'Ortiz', 'Castaño'] },
  { code: 'SE', weight: 6, cities: ['Stockholm', 'Göteborg', 'Umeå', 'Åre', 'Malmö'],
    first: ['Björn', 'Astrid', 'Erik', 'Maja', 'Linnéa', 'Oskar', 'Elsa', 'Göran'],
    last: ['Öberg', 'Andersson', 'Johansson', 'Lindström', 'Nyström', 'Åkesson', 'Berg', 'Sjöberg'] },
  { code: 'NO', weight: 5, cities: ['Oslo', 'Bergen', 'Tromsø', 'Trondheim'],
    first: ['Ingrid', 'Lars', 'Sigrid', 'Håkon', 'Nora', 'Magnus'],
    last: ['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Berg', 'Haugen'] },
  { code: 'CZ', weight: 6, cities: ['Praha', 'Brno', 'Liberec', 'Olomouc'],
    first: ['Jakub', 'Tereza', 'Tomáš', 'Eliška', 'Jan', 'Anežka'],
    last: ['Novák', 'Svoboda', 'Dvořák', 'Černý', 'Procházka', 'Král'] },
];

const NOTES_PLAIN = [
  'VIP customer',
  'Prefers email contact',
  'Newsletter subscriber since launch',
  'Ships to a parcel locker',
  'Repeat gift buyer',
];
const NOTES_TRICKY = [
  'Prefers delivery after 5 pm, weekdays only',
  'Asked for "gift wrap" on every order',
  'Called support twice:\nsizing question, then a late delivery.',
  'Returned a tent, said it was "smaller than it looks"',
  'Hiking club organiser, buys in bulk, asks for invoices',
  'Address note:\nbuilding B, 3rd floor\nring "Outdoor Club"',
  'Marked as fraud risk in 2024, cleared after review, see ticket #4411',
];

interface ProductSeed {
  category: string;
  code: string;
  items: [name: string, priceCents: number, variants: string[]][];
}

const PRODUCT_SEEDS: ProductSeed[] = [
  { category: 'Tents', code: 'TNT', items: [
    ['Summit 2P Tent', 34900, ['Forest Green', 'Sand']],
    ['Ridge 3P Tent', 42900, ['Orange']],
    ['Basecamp 4P Tent', 54900, []],
    ['Ultralight 1P Shelter', 29900, ['Grey', 'Yellow']],
    ['Hammock Tarp', 8900, []],
    ['Family Dome 6P Tent', 61900, ['Blue', 'Grey']],
    ['Tent Footprint', 3900, ['2P', '3P']],
  ] },
  { category: 'Sleeping', code: 'SLP', items: [
    ['Down Sleeping Bag -5°C', 27900, ['Regular', 'Long']],
    ['Synthetic Sleeping Bag 5°C', 11900, []],
    ['Self-Inflating Mat', 7900, ['Regular', 'Wide']],
    ['Inflatable Pillow', 2900, ['Grey', 'Blue']],
    ['Camp Quilt', 15900, []],
    ['Silk Liner', 4900, []],
  ] },
  { category: 'Backpacks', code: 'BPK', items: [
    ['Trailhead 28L Daypack', 8900, ['Black', 'Teal']],
    ['Expedition 65L Pack', 24900, ['M', 'L']],
    ['Hydration Vest 8L', 10900, ['S/M', 'L/XL']],
    ['Hip Pack 3L', 3900, []],
    ['Kids Explorer 15L', 4900, []],
    ['Dry Bag', 1900, ['10L', '20L', '35L']],
  ] },
  { category: 'Footwear', code: 'FTW', items: [
    ['Trail Runner 2 "Storm" Edition', 13900, []],
    ['Alpine Mid GTX Boot', 21900, ["Men's", "Women's"]],
    ['Approach Shoe', 15900, ['Grey', 'Orange']],
    ['Gaiters, Waterproof', 4900, []],
    ['Merino Hiking Socks', 1900, ['2-pack', '3-pack']],
    ['Camp Sandal', 5900, []],
  ] },
  { category: 'Apparel', code: 'APP', items: [
    ['Storm Shell Jacket', 24900, ['Red', 'Navy']],
    ['Fleece Midlayer', 7900, ["Men's", "Women's"]],
    ['Merino Base Layer Top', 6900, ["Men's", "Women's"]],
    ['Rain Poncho', 3900, []],
    ['Göteborg Wool Beanie', 2900, []],
    ['Softshell Trousers', 9900, ['Regular', 'Short leg']],
    ['Insulated Puffer Vest', 12900, ['Black', 'Red']],
    ['Sun Hoodie UPF 50', 5900, []],
  ] },
  { category: 'Cooking', code: 'CKG', items: [
    ['Titanium Mug 450ml', 3400, []],
    ['Compact Gas Stove', 4900, []],
    ['Two-Pot Cook Set', 6900, []],
    ['Piñon Camp Chair', 7900, ['Olive', 'Charcoal']],
    ['Water Filter Bottle', 4400, []],
    ['Collapsible Bowl', 1400, []],
    ['Camp Coffee Press', 2900, []],
    ['Spork, Titanium', 1400, []],
  ] },
  { category: 'Climbing', code: 'CLB', items: [
    ['Dynamic Rope 9.8mm', 18900, ['60m', '70m']],
    ['Climbing Harness', 7900, ['S', 'M', 'L']],
    ['Belay Device', 3400, []],
    ['Locking Carabiner', 1400, []],
    ['Chalk Bag', 2400, []],
    ['Climbing Helmet', 8900, []],
  ] },
  { category: 'Accessories', code: 'ACC', items: [
    ['Headlamp 400 lm', 4900, []],
    ['Trekking Poles', 8900, ['Aluminium', 'Carbon']],
    ['First Aid Kit', 3400, []],
    ['Emergency Bivvy', 2400, []],
    ['Solar Power Bank', 5900, []],
    ['Compass, Baseplate', 2900, []],
    ['Insect Repellent', 900, []],
    ['Map Case', 1900, []],
  ] },
];

interface Customer {
  id: number;
  signup: number;
  weight: number;
  country: string;
  segment: string;
}

interface Product {
  id: number;
  sku: string;
  priceCents: number;
  /** Not sold before this instant. */
  availableFrom: number;
  /** Not sold from this instant on (discontinued products). */
  availableTo: number;
}


function genCustomers(rng: Rng): { rows: Cell[][]; customers: Customer[] } {
  const rows: Cell[][] = [];
  const customers: Customer[] = [];
  const emails = new Set<string>();
  const countryWeights = COUNTRIES.map((c) => [c, c.weight] as const);
  const signups: number[] = [];
  for (let i = 0; i < DEMO_COUNTS.customers; i++) {
    signups.push(SIGNUP_FROM + Math.floor(rng.float() * ((SIGNUP_TO - SIGNUP_FROM) / DAY)) * DAY);
  }
  signups.sort((a, b) => a - b); // customer ids grow with the signup date
  for (let i = 0; i < DEMO_COUNTS.customers; i++) {
    const id = 1001 + i;
    const country = rng.weighted(countryWeights);
    const first = rng.pick(country.first);
    const last = rng.pick(country.last);
    const name = `${first} ${last}`;
    const segment = rng.weighted([['consumer', 70], ['business', 18], ['club', 12]] as const);
    const domain = segment === 'consumer' ? rng.pick(['example.com', 'example.net', 'example.org']) : 'example.com';
    const local = asciiFold(`${first}.${last}`).toLowerCase().replace(/[^a-z.]/g, '');
    let email = `${local}@${domain}`;
    for (let n = 2; emails.has(email); n++) email = `${local}${n}@${domain}`;
    emails.add(email);
    const signup = signups[i] ?? SIGNUP_FROM;
    const isActive = rng.chance(0.86);
    const r = rng.float();
    const notes = r < 0.72 ? null : r < 0.86 ? rng.pick(NOTES_PLAIN) : rng.pick(NOTES_TRICKY);
    rows.push([id, name, email, country.code, rng.pick(country.cities), segment, isoDate(signup), isActive ? 'yes' : 'no', notes]);
    // A few heavy buyers, many occasional ones.
    const weight = (isActive ? 1 : 0.3) * (segment === 'consumer' ? 1 : 2) / Math.pow(rng.float() + 0.05, 0.8);
    customers.push({ id, signup, weight, country: country.code, segment });
  }
  return { rows, customers };
}

function genProducts(rng: Rng): { rows: Cell[][]; products: Product[] } {
  const rows: Cell[][] = [];
  const products: Product[] = [];
  const flat: { seed: ProductSeed; name: string; priceCents: number }[] = [];
  for (const seed of PRODUCT_SEEDS) {
    for (const [base, priceCents, variants] of seed.items) {
      if (variants.length === 0) flat.push({ seed, name: base, priceCents });
      variants.forEach((v, k) => flat.push({ seed, name: `${base}, ${v}`, priceCents: priceCents + k * 1000 }));
    }
  }
  if (flat.length !== DEMO_COUNTS.products) throw new Error(`product catalogue has ${flat.length} items, expected ${DEMO_COUNTS.products}`);
  const perCategory = new Map<string, number>();
  flat.forEach((p, i) => {
    const id = i + 1;
    const n = (perCategory.get(p.seed.code) ?? 0) + 1;
    perCategory.set(p.seed.code, n);
    const sku = `ACM-${p.seed.code}-${pad(n, 3)}`;
    // Mostly long-standing items; some launched during the two sales years.
    const legacy = rng.chance(0.06);
    const launched = rng.chance(0.22)
      ? Date.UTC(2024, 0, 1) + rng.int(0, 640) * DAY
      : Date.UTC(2019, 0, 1) + rng.int(0, 1800) * DAY;
    const discontinued = !legacy && launched < Date.UTC(2023, 0, 1) && rng.chance(0.18);
    rows.push([id, sku, p.name, p.seed.category, money(p.priceCents), legacy ? null : isoDate(launched), discontinued ? 'true' : 'false']);
    products.push({
      id,
      sku,
      priceCents: p.priceCents,
      availableFrom: legacy ? 0 : launched,
      availableTo: discontinued ? Date.UTC(2024, 6, 1) + rng.int(0, 300) * DAY : Infinity,
    });
  });
  return { rows, products };
}

/** Relative order volume per month (0 = January): spring/summer season and the holidays. */
const MONTH_WEIGHT = [0.7, 0.6, 0.8, 1.0, 1.2, 1.3, 1.3, 1.1, 0.9, 0.8, 1.3, 1.6];
/** Relative activity per UTC hour of day. */
const HOUR_WEIGHT = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.2, 1.1, 1.1, 1.2, 1.3, 1.5, 1.7, 1.8, 1.6, 1.1, 0.5];
const HOURS = HOUR_WEIGHT.map((w, h) => [h, w] as const);

function randomInstant(rng: Rng, from: number, to: number, seasonal: boolean): number {
  const days = Math.floor((to - from) / DAY);
  for (;;) {
    const day = from + rng.int(0, days - 1) * DAY;
    const month = new Date(day).getUTCMonth();
    const growth = 1 + (day - ORDERS_FROM) / (ORDERS_TO - ORDERS_FROM) * 0.35; // the shop grows
    if (seasonal && rng.float() * 1.6 * 1.35 > (MONTH_WEIGHT[month] ?? 1) * growth) continue;
    const hour = rng.weighted(HOURS);
    return day + hour * 3_600_000 + rng.int(0, 3599) * 1000;
  }
}

const COUPONS: { code: string; rate: number; months: number[] }[] = [
  { code: 'WELCOME10', rate: 0.1, months: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
  { code: 'SPRING15', rate: 0.15, months: [2, 3, 4] },
  { code: 'SUMMER20', rate: 0.2, months: [5, 6, 7] },
  { code: 'BLACKFRIDAY25', rate: 0.25, months: [10] },
  { code: 'CLUB10', rate: 0.1, months: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
];

function genOrders(rng: Rng, customers: Customer[], products: Product[]): { orders: Cell[][]; lines: Map<string, Cell[][]>; lineCount: number } {
  const instants: number[] = [];
  for (let i = 0; i < DEMO_COUNTS.orders; i++) instants.push(randomInstant(rng, ORDERS_FROM, ORDERS_TO, true));
  instants.sort((a, b) => a - b);

  const lines = new Map<string, Cell[][]>();
  for (let m = 0; m < 24; m++) lines.set(`${2024 + Math.floor(m / 12)}-${pad((m % 12) + 1)}`, []);
  const orders: Cell[][] = [];
  let lineCount = 0;
  const countryCodes = COUNTRIES.map((c) => c.code);

  instants.forEach((at, i) => {
    const orderId = 100001 + i;
    // Customer: signed up before the order, weighted towards frequent buyers.
    const eligible = customers.filter((c) => c.signup <= at);
    const customer = rng.weighted(eligible.map((c) => [c, c.weight] as const));
    const month = new Date(at).getUTCMonth();
    const age = REFERENCE_NOW - at;
    const status = age < 3 * DAY
      ? rng.weighted([['processing', 60], ['shipped', 40]] as const)
      : age < 10 * DAY
        ? rng.weighted([['shipped', 55], ['delivered', 40], ['cancelled', 5]] as const)
        : rng.weighted([['delivered', 88], ['returned', 7], ['cancelled', 5]] as const);
    const channel = rng.weighted([['web', 55], ['mobile_app', 30], ['marketplace', 10], ['phone', 5]] as const);
    const shippingCountry = rng.chance(0.04) ? rng.pick(countryCodes) : customer.country;
    const coupons = COUPONS.filter((c) => c.months.includes(month) && (c.code !== 'CLUB10' || customer.segment === 'club'));
    const coupon = rng.chance(customer.segment === 'club' ? 0.3 : 0.07) ? rng.pick(coupons) : null;

    const available = products.filter((p) => p.availableFrom <= at && at < p.availableTo);
    const lineTotal = rng.weighted([[1, 45], [2, 28], [3, 15], [4, 8], [5, 4]] as const);
    const chosen: Product[] = [];
    while (chosen.length < lineTotal) {
      const p = rng.pick(available);
      if (!chosen.includes(p)) chosen.push(p);
    }
    let totalCents = 0;
    const monthLines = lines.get(monthKey(at));
    if (!monthLines) throw new Error(`order outside the demo range: ${isoTimestamp(at)}`);
    chosen.forEach((p, k) => {
      const quantity = rng.weighted([[1, 70], [2, 20], [3, 6], [4, 4]] as const) * (customer.segment === 'club' && rng.chance(0.3) ? 5 : 1);
      const discount = coupon ? coupon.rate : rng.chance(0.12) ? rng.pick([0.1, 0.15, 0.2, 0.3]) : null;
      totalCents += Math.round(quantity * p.priceCents * (1 - (discount ?? 0)));
      monthLines.push([orderId, k + 1, p.id, quantity, money(p.priceCents), discount === null ? null : rate(discount), isoTimestamp(at)]);
      lineCount++;
    });
    orders.push([orderId, customer.id, isoTimestamp(at), status, channel, shippingCountry, money(totalCents), coupon ? coupon.code : null]);
  });
  return { orders, lines, lineCount };
}

const SEARCHES = ['rain jacket', 'tent, 2 person', 'headlamp', 'sleeping bag', 'boots, waterproof', 'stove', 'gift card'];
const CATEGORY_SLUGS = PRODUCT_SEEDS.map((s) => s.category.toLowerCase());

function genWebEvents(rng: Rng, customers: Customer[], products: Product[]): Cell[][] {
  interface Event { at: number; session: string; customer: number | null; page: string; referrer: string | null; device: string }
  const events: Event[] = [];
  const sessions = new Set<string>();
  const known = customers.filter((c) => c.signup < EVENTS_FROM);
  const knownWeights = known.map((c) => [c, c.weight] as const);
  while (events.length < DEMO_COUNTS.web_events) {
    let session = `s-${rng.hex(10)}`;
    while (sessions.has(session)) session = `s-${rng.hex(10)}`;
    sessions.add(session);
    const device = rng.weighted([['mobile', 48], ['desktop', 45], ['tablet', 7]] as const);
    const customer = rng.chance(0.35) ? rng.weighted(knownWeights).id : null;
    const landingReferrer = rng.weighted([
      [null, 35], ['https://www.google.com/', 30], ['https://duckduckgo.com/', 5], ['https://www.instagram.com/', 12],
      ['https://newsletter.acme-outdoor.example/', 10], ['https://www.reddit.com/r/CampingGear/', 8],
    ] as const);
    const length = rng.weighted([[1, 30], [2, 20], [3, 15], [4, 12], [5, 9], [6, 6], [8, 5], [12, 3]] as const);
    let at = randomInstant(rng, EVENTS_FROM, ORDERS_TO, false);
    let previous: string | null = null;
    for (let k = 0; k < length && events.length < DEMO_COUNTS.web_events && at <= REFERENCE_NOW; k++) {
      const kind = k === 0
        ? rng.weighted([['home', 40], ['category', 25], ['product', 30], ['search', 5]] as const)
        : rng.weighted([['category', 20], ['product', 45], ['search', 12], ['cart', 13], ['checkout', 10]] as const);
      const page = kind === 'home' ? '/'
        : kind === 'category' ? `/c/${rng.pick(CATEGORY_SLUGS)}`
          : kind === 'product' ? `/p/${rng.pick(products).sku.toLowerCase()}`
            : kind === 'search' ? `/search?q=${rng.pick(SEARCHES)}`
              : `/${kind}`;
      events.push({ at, session, customer, page, referrer: k === 0 ? landingReferrer : `https://acme-outdoor.example${previous ?? '/'}`, device });
      previous = page;
      at += rng.int(8, 240) * 1000;
    }
  }
  // Stable sort by time; ties keep generation order.
  const ordered = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i);
  return ordered.map(({ e }, i) => [`evt-${pad(i + 1, 6)}`, isoTimestamp(e.at), e.session, e.customer, e.page, e.referrer, e.device]);
}

function genCustomerCredit(rng: Rng, customers: Customer[]): Cell[][] {
  return customers
    .filter((c) => c.segment !== 'consumer')
    .map((c) => {
      const limit = rng.pick([1000, 2500, 5000, 5000, 10000, 15000, 25000]) * 100;
      return [c.id, money(limit), rng.int(3, 97)];
    });
}


/** Generate the demo CSV files into `outDir` (created when missing; other files are left alone). */
export async function generateDemo(outDir: string): Promise<DemoResult> {
  const { rows: customerRows, customers } = genCustomers(new Rng(0xacc0_0001));
  const { rows: productRows, products } = genProducts(new Rng(0xacc0_0002));
  const { orders, lines, lineCount } = genOrders(new Rng(0xacc0_0003), customers, products);
  const webEvents = genWebEvents(new Rng(0xacc0_0004), customers, products);
  const credit = genCustomerCredit(new Rng(0xacc0_0005), customers);

  const outputs: [string, string][] = [
    ['customers.csv', toCsv(DEMO_COLUMNS.customers, customerRows)],
    ['products.csv', toCsv(DEMO_COLUMNS.products, productRows)],
    ['orders.csv', toCsv(DEMO_COLUMNS.orders, orders)],
    ['web_events.csv', toCsv(DEMO_COLUMNS.web_events, webEvents)],
    ['customer_credit.csv', toCsv(DEMO_COLUMNS.customer_credit, credit)],
  ];
  for (const [month, monthRows] of lines) outputs.push([`order_lines/${month}.csv`, toCsv(DEMO_COLUMNS.order_lines, monthRows)]);

  await mkdir(path.join(outDir, 'order_lines'), { recursive: true });
  for (const [file, content] of outputs) await writeFile(path.join(outDir, ...file.split('/')), content, 'utf8');

  return {
    files: outputs.map(([file]) => file).sort(),
    rows: {
      customers: customerRows.length,
      products: productRows.length,
      orders: orders.length,
      order_lines: lineCount,
      web_events: webEvents.length,
      customer_credit: credit.length,
    },
  };
}

/** Default output directory: `csv/` next to this file. */
export const DEMO_CSV_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'csv');

function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(path.resolve(script)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  const outDir = path.resolve(process.argv[2] ?? DEMO_CSV_DIR);
  const result = await generateDemo(outDir);
  for (const [table, count] of Object.entries(result.rows)) console.log(`${table.padEnd(16)} ${String(count).padStart(6)} rows`);
  console.log(`${result.files.length} files written to ${outDir}`);
}
