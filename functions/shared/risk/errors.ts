/**
 * Thrown when the caller hands the risk manager a snapshot no decision can be made from (NaN
 * equity, a negative quantity on a spot account...). Market conditions never throw: they refuse.
 */
export class RiskInputError extends Error {
  override readonly name = "RiskInputError";
  constructor(
    readonly field: string,
    readonly value: unknown,
    expectation: string,
  ) {
    super(`risk input ${field} = ${String(value)}: ${expectation}`);
  }
}
