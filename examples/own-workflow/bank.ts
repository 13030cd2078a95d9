/**
 * A user's own workflow functions, registered with `defineWorkload`: bank transfers. `transfer`
 * reads both accounts, writes both new balances and synchronously invokes `audit`, which records
 * the transfer in an audit table. Every value names the request that wrote it, so the exactly-
 * once checker can tell which write a read saw.
 */
import { defineWorkload, pick, type Json, type WorkflowFn } from 'halfmoon';

interface Account {
  readonly balance: number;
  readonly by: string;
}

const transfer: WorkflowFn = (ctx, input) => {
  const t = input as { from: string; to: string; amount: number; tag: string };
  const a = ctx.read('acct', t.from) as unknown as Account;
  const b = ctx.read('acct', t.to) as unknown as Account;
  if (a.balance < t.amount) return 'insufficient';
  ctx.write('acct', t.from, { balance: a.balance - t.amount, by: `${t.tag}:debit` });
  ctx.write('acct', t.to, { balance: b.balance + t.amount, by: `${t.tag}:credit` });
  return ctx.invoke('audit', { tag: t.tag, from: t.from, to: t.to, amount: t.amount });
};

const audit: WorkflowFn = (ctx, input) => {
  const e = input as { tag: string };
  ctx.write('audit', e.tag, input);
  return 'ok';
};

const num = (p: Readonly<Record<string, Json>>, k: string, d: number) => (typeof p[k] === 'number' ? (p[k] as number) : d);

defineWorkload({
  name: 'bank',
  description: 'bank transfers between accounts, each audited by a synchronous invocation',
  functions: { transfer, audit },
  generate(p, k, rand) {
    const n = Math.max(2, num(p, 'keys', 4));
    const from = pick(rand, 'from', n);
    const to = (from + 1 + pick(rand, 'to', n - 1)) % n;
    return { fn: 'transfer', input: { from: `a${from}`, to: `a${to}`, amount: 1 + pick(rand, 'amount', 10), tag: `q${k}` } };
  },
  initial(p) {
    return Array.from({ length: Math.max(2, num(p, 'keys', 4)) }, (_, i): [string, string, Json] => ['acct', `a${i}`, { balance: 100, by: 'init' }]);
  },
});
