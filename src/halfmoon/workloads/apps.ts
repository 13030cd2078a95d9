/**
 * The published application workloads (spec §9.1), as workflow functions over the runtime.
 * Their shapes follow the artifact's benchmarks; their data sizes are parameters.
 *
 * - hotel (read-heavy): 90% search (a geo lookup invoking the rate service for the hotels found),
 *   9% login (one read), 0.5% recommend (profile reads), 0.5% reserve (read and decrement hotel
 *   and flight capacity, then an async order write). The artifact's reserve is a 2PL transaction;
 *   transactions are out of scope (spec §6.4), so reserve is reads followed by blind writes.
 * - movie (write-heavy): ComposeReview. The frontend invokes uniqueId, user, movieId and text;
 *   each async-invokes composeReview, which increments the review's part counter (a protocol read
 *   then a blind write, spec §9.1 project decision) and, at the fourth part, stores the review and
 *   appends it to the user's and the movie's review lists. Concurrent increments can lose updates
 *   without transactions, so the number of completed reviews is measured, not assumed.
 * - retwis (read-heavy): 80% timeline (the user row, then up to 5 posts), 10% post (write the post,
 *   read the author, async publish to 8 follower timelines), 5% login, 5% profile.
 */
import type { WorkflowFn } from '../program.ts';
import type { Json } from '../records.ts';
import { pick, type Rand, type Workload } from './types.ts';

function num(p: Readonly<Record<string, Json>>, k: string, d: number): number {
  const v = p[k];
  return typeof v === 'number' ? v : d;
}

function roll(rand: Rand, label: string): number {
  return rand(label) / 0x1_0000_0000;
}

// ---------------------------------------------------------------------------------------------
// hotel

const GEO_CELLS = 25;

const hotelFrontend: WorkflowFn = (ctx, input) => {
  const i = input as { op: string; user: string; cell: string; hotels: string[]; hotel: string; flight: string; tag: string };
  switch (i.op) {
    case 'search': {
      const near = ctx.invoke('geo', { cell: i.cell }) as string[];
      return ctx.invoke('rate', { hotels: near });
    }
    case 'login':
      return ctx.read('user', i.user);
    case 'recommend':
      return i.hotels.map((h) => ctx.read('profile', h));
    case 'reserve': {
      const rooms = ctx.read('hotel', i.hotel) as number;
      if (rooms <= 0) return 'full';
      ctx.write('hotel', i.hotel, rooms - 1);
      const seats = ctx.read('flight', i.flight) as number;
      if (seats > 0) ctx.write('flight', i.flight, seats - 1);
      ctx.invokeAsync('order', { user: i.user, hotel: i.hotel, flight: i.flight, tag: i.tag });
      return 'reserved';
    }
    default:
      return null;
  }
};

const hotelGeo: WorkflowFn = (ctx, input) => ctx.read('geo', (input as { cell: string }).cell);
const hotelRate: WorkflowFn = (ctx, input) => (input as { hotels: string[] }).hotels.slice(0, 5).map((h) => ctx.read('rate', h));
const hotelOrder: WorkflowFn = (ctx, input) => {
  const i = input as { user: string; hotel: string; flight: string; tag: string };
  ctx.write('order', i.tag, `${i.user}:${i.hotel}:${i.flight}`);
  return null;
};

export const hotelWorkload: Workload = {
  name: 'hotel',
  description: 'hotel reservation: search, login, recommend, reserve (read-heavy)',
  functions: { frontend: hotelFrontend, geo: hotelGeo, rate: hotelRate, order: hotelOrder },
  generate(p, k, rand) {
    const hotels = num(p, 'hotels', 100);
    const users = num(p, 'users', 501);
    const r = roll(rand, 'mix');
    const op = r < 0.9 ? 'search' : r < 0.99 ? 'login' : r < 0.995 ? 'recommend' : 'reserve';
    const some = Array.from({ length: 5 }, () => `h${pick(rand, 'hotel', hotels)}`);
    return {
      fn: 'frontend',
      input: { op, user: `u${pick(rand, 'user', users)}`, cell: `c${pick(rand, 'cell', GEO_CELLS)}`, hotels: some, hotel: some[0]!, flight: `f${pick(rand, 'flight', 20)}`, tag: `q${k}` },
    };
  },
  initial(p) {
    const hotels = num(p, 'hotels', 100);
    const rows: [string, string, Json][] = [];
    for (let c = 0; c < GEO_CELLS; c++) rows.push(['geo', `c${c}`, Array.from({ length: 3 }, (_, j) => `h${(c * 3 + j) % hotels}`)]);
    for (let h = 0; h < hotels; h++) rows.push(['rate', `h${h}`, 100 + (h % 50)], ['profile', `h${h}`, `hotel ${h}`], ['hotel', `h${h}`, 200]);
    for (let f = 0; f < 20; f++) rows.push(['flight', `f${f}`, 300]);
    for (let u = 0; u < num(p, 'users', 501); u++) rows.push(['user', `u${u}`, `password${u}`]);
    return rows;
  },
};

// ---------------------------------------------------------------------------------------------
// movie

const PARTS = ['uniqueId', 'user', 'movieId', 'text'] as const;

const movieFrontend: WorkflowFn = (ctx, input) => {
  const i = input as { review: string; user: string; movie: string; text: string };
  for (const part of PARTS) ctx.invoke(part, { review: i.review, user: i.user, movie: i.movie, text: i.text });
  return i.review;
};

function partFn(part: string): WorkflowFn {
  return (ctx, input) => {
    const i = input as { review: string; user: string; movie: string; text: string };
    // Each part does its lookup, then hands its piece to composeReview asynchronously.
    const value = part === 'user' ? ctx.read('user', i.user) : part === 'movieId' ? ctx.read('movie', i.movie) : part === 'text' ? i.text : i.review;
    ctx.invokeAsync('composeReview', { review: i.review, user: i.user, movie: i.movie, part, value });
    return null;
  };
}

const composeReview: WorkflowFn = (ctx, input) => {
  const i = input as { review: string; user: string; movie: string; part: string; value: Json };
  const n = ((ctx.read('counter', i.review) as number | null) ?? 0) + 1;
  ctx.write('counter', i.review, n);
  ctx.write('part', `${i.review}/${i.part}`, i.value);
  if (n === PARTS.length) {
    ctx.write('review', i.review, { user: i.user, movie: i.movie });
    const ur = (ctx.read('userReviews', i.user) as string[] | null) ?? [];
    ctx.write('userReviews', i.user, [...ur.slice(-9), i.review]);
    const mr = (ctx.read('movieReviews', i.movie) as string[] | null) ?? [];
    ctx.write('movieReviews', i.movie, [...mr.slice(-9), i.review]);
  }
  return n;
};

export const movieWorkload: Workload = {
  name: 'movie',
  description: 'movie reviews: ComposeReview with parallel parts and a dependent counter (write-heavy)',
  functions: { frontend: movieFrontend, ...Object.fromEntries(PARTS.map((p) => [p, partFn(p)])), composeReview },
  generate(p, k, rand) {
    return { fn: 'frontend', input: { review: `r${k}`, user: `u${pick(rand, 'user', num(p, 'users', 1000))}`, movie: `m${pick(rand, 'movie', num(p, 'movies', 1000))}`, text: `review text ${k}` } };
  },
  initial(p) {
    const rows: [string, string, Json][] = [];
    for (let u = 0; u < num(p, 'users', 1000); u++) rows.push(['user', `u${u}`, `user ${u}`], ['userReviews', `u${u}`, []]);
    for (let m = 0; m < num(p, 'movies', 1000); m++) rows.push(['movie', `m${m}`, `movie ${m}`], ['movieReviews', `m${m}`, []]);
    return rows;
  },
};

// ---------------------------------------------------------------------------------------------
// retwis

const FOLLOWERS = 8;

const retwisFrontend: WorkflowFn = (ctx, input) => {
  const i = input as { op: string; user: string; followers: string[]; tag: string };
  switch (i.op) {
    case 'timeline': {
      const tl = (ctx.read('timeline', i.user) as string[] | null) ?? [];
      return tl.slice(-5).map((post) => ctx.read('post', post));
    }
    case 'post': {
      ctx.write('post', i.tag, `post by ${i.user}`);
      const author = ctx.read('user', i.user);
      ctx.invokeAsync('publish', { post: i.tag, followers: i.followers });
      return author;
    }
    case 'login':
      return ctx.read('user', i.user);
    case 'profile':
      return ctx.read('profile', i.user);
    default:
      return null;
  }
};

const publish: WorkflowFn = (ctx, input) => {
  const i = input as { post: string; followers: string[] };
  // A timeline insert is a dependent update: read, then a blind write (spec §9.1 project decision).
  for (const f of i.followers) {
    const tl = (ctx.read('timeline', f) as string[] | null) ?? [];
    ctx.write('timeline', f, [...tl.slice(-9), i.post]);
  }
  return null;
};

export const retwisWorkload: Workload = {
  name: 'retwis',
  description: 'Retwis: timeline, post with async publish to followers, login, profile (read-heavy)',
  functions: { frontend: retwisFrontend, publish },
  generate(p, k, rand) {
    const users = num(p, 'users', 10_000);
    const u = pick(rand, 'user', users);
    const r = roll(rand, 'mix');
    const op = r < 0.8 ? 'timeline' : r < 0.9 ? 'post' : r < 0.95 ? 'login' : 'profile';
    return { fn: 'frontend', input: { op, user: `u${u}`, followers: Array.from({ length: FOLLOWERS }, (_, j) => `u${(u + 1 + j * 7) % users}`), tag: `p${k}` } };
  },
  initial(p) {
    const rows: [string, string, Json][] = [];
    for (let u = 0; u < num(p, 'users', 10_000); u++) rows.push(['user', `u${u}`, `user ${u}`], ['profile', `u${u}`, `profile ${u}`], ['timeline', `u${u}`, []]);
    return rows;
  },
};
