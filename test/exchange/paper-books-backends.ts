/**
 * The two homes of the paper venue's books every paper exchange behaviour test runs against:
 * PaperBooks in a private portfolio table of the run's local cloud, and MemoryPaperBooks. Every
 * PaperExchange built from one location shares its books, as every function shares the table.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { MemoryPaperBooks, type PaperBookStore } from "#exchange/paper/index.js";
import { PaperBooks } from "#exchange/paper/paper-books.js";
import { createDocumentClient } from "#store/dynamo/index.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

export type BooksLocation = { db: DynamoDBDocumentClient; table: string } | { books: PaperBookStore };

export interface PaperBooksBackend {
  name: string;
  /** fresh, empty books opening with `startingCashUsd`; `label` names the local-cloud tables */
  fresh(label: string, startingCashUsd: string): Promise<BooksLocation>;
}

let db: DynamoDBDocumentClient | undefined;

export const PAPER_BOOKS: readonly PaperBooksBackend[] = [
  {
    name: "DynamoDB",
    fresh: async (label) => {
      const cloud = await isolatedCloud(label);
      db ??= createDocumentClient();
      return { db, table: cloud.tables.portfolio };
    },
  },
  {
    name: "memory",
    fresh: async (_label, startingCashUsd) => ({ books: new MemoryPaperBooks(startingCashUsd) }),
  },
];

/** The book store a location holds (PaperBooks on the table, or the memory books themselves). */
export function booksAt(location: BooksLocation, startingCashUsd: string): PaperBookStore {
  return "books" in location ? location.books : new PaperBooks(location.db, location.table, startingCashUsd);
}
