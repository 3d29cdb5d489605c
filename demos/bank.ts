// The actors and tasks of the bank demo (demos/actors.ts). Each Account is an actor: its
// balance lives in one worker and changes one message at a time, so no two withdrawals
// can both see the same balance.
import { actor } from 'troupe/worker';

export class InsufficientFunds extends Error {}

export class Account {
  #balance: number;

  constructor(opening: number) {
    this.#balance = opening;
  }

  balance(): number {
    return this.#balance;
  }

  deposit(amount: number): number {
    this.#balance += amount;
    return this.#balance;
  }

  withdraw(amount: number): number {
    if (amount > this.#balance) throw new RangeError(`insufficient funds: ${this.#balance} < ${amount}`);
    this.#balance -= amount;
    return this.#balance;
  }
}

/**
 * A task: moves `amount` from one account actor to another. It is a task, not an Account
 * method, on purpose: an actor that awaited another actor would hold its own mailbox
 * meanwhile, and two accounts paying each other at once would wait on each other forever.
 */
export async function transfer(from: string, to: string, amount: number): Promise<boolean> {
  try {
    await actor(from).call('withdraw', [amount]);
  } catch {
    return false; // refused: not enough money; nothing moved
  }
  await actor(to).call('deposit', [amount]);
  return true;
}
