// Credits per API key. Segmind bills only COMPLETED jobs; a balance never goes below zero here.

const roundCredits = (value: number): number => Math.round(value * 1e6) / 1e6;

export class CreditLedger {
  private readonly balances = new Map<string, number>();

  constructor(private readonly startingCredits: number) {}

  balance(apiKey: string): number {
    return this.balances.get(apiKey) ?? this.startingCredits;
  }

  set(apiKey: string, credits: number): void {
    this.balances.set(apiKey, roundCredits(credits));
  }

  /** Charges a completed job and returns the balance left. */
  charge(apiKey: string, cost: number): number {
    const left = roundCredits(Math.max(0, this.balance(apiKey) - cost));
    this.balances.set(apiKey, left);
    return left;
  }

  reset(): void {
    this.balances.clear();
  }
}
