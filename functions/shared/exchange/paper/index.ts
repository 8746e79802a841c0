export { MemoryPaperBooks } from "./memory-paper-books.js";
export type { PaperBookStore } from "./paper-book-store.js";
export type { PaperExchangeDeps, PaperSettings, SettlementReport } from "./paper-exchange.js";
export { CANCEL_NOT_OPEN, exchangeOrderOf, PaperExchange } from "./paper-exchange.js";
export type { PriceQuote, PriceSource } from "./price-source.js";
export { candlePriceSource } from "./price-source.js";
