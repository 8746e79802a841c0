/** Private Advanced Trade endpoints (JWT per request), returning parsed wire shapes. */
import { CoinbaseApiError } from "./errors.js";
import { CoinbaseHttp, type CoinbaseHttpOptions } from "./http.js";
import {
  AccountsResponseWire,
  type AccountWire,
  BatchCancelResponseWire,
  BestBidAskResponseWire,
  CreateOrderResponseWire,
  type FillWire,
  GetOrderResponseWire,
  ListFillsResponseWire,
  ListOrdersResponseWire,
  type OrderConfigurationWire,
  type OrderWire,
  type PreviewResponseWire as PreviewResponse,
  PreviewResponseWire,
  ProductWire,
  type ProductWire as ProductWireT,
} from "./wire.js";

export interface OrderBody {
  product_id: string;
  side: "BUY" | "SELL";
  order_configuration: OrderConfigurationWire;
}

/** A rejection is a value, not an exception: Coinbase answers HTTP 200 with success:false. */
export type CreateOrderOutcome =
  | { success: true; orderId: string; clientOrderId: string }
  | {
      success: false;
      error: string;
      message: string;
      previewFailureReason: string;
      newOrderFailureReason: string;
    };

/** Pages are bounded so a server that never stops paging cannot loop us forever. */
const MAX_PAGES = 1000;

export class CoinbaseTradingClient {
  readonly http: CoinbaseHttp;

  constructor(httpOrOptions: CoinbaseHttp | CoinbaseHttpOptions) {
    this.http = httpOrOptions instanceof CoinbaseHttp ? httpOrOptions : new CoinbaseHttp(httpOrOptions);
  }

  async listAccounts(pageSize = 250): Promise<AccountWire[]> {
    const accounts: AccountWire[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.http.request({
        method: "GET",
        path: "/accounts",
        query: { limit: pageSize, cursor },
        private: true,
        schema: AccountsResponseWire,
      });
      accounts.push(...body.accounts);
      if (!body.has_next || !body.cursor) break;
      cursor = body.cursor;
    }
    return accounts;
  }

  async getBestBidAsk(productIds: readonly string[]) {
    const body = await this.http.request({
      method: "GET",
      path: "/best_bid_ask",
      query: { product_ids: productIds },
      private: true,
      schema: BestBidAskResponseWire,
    });
    return body.pricebooks;
  }

  async getProduct(productId: string): Promise<ProductWireT> {
    return this.http.request({
      method: "GET",
      path: `/products/${encodeURIComponent(productId)}`,
      private: true,
      schema: ProductWire,
    });
  }

  async previewOrder(order: OrderBody): Promise<PreviewResponse> {
    return this.http.request({
      method: "POST",
      path: "/orders/preview",
      body: order,
      private: true,
      schema: PreviewResponseWire,
    });
  }

  /** Safe to repeat with the same clientOrderId: Coinbase returns the original order instead of a new one. */
  async createOrder(
    clientOrderId: string,
    order: OrderBody,
    previewId?: string,
  ): Promise<CreateOrderOutcome> {
    const body = await this.http.request({
      method: "POST",
      path: "/orders",
      body: { client_order_id: clientOrderId, ...order, ...(previewId ? { preview_id: previewId } : {}) },
      private: true,
      schema: CreateOrderResponseWire,
    });
    if (body.success) {
      const orderId = body.success_response?.order_id || body.order_id;
      if (!orderId) {
        return {
          success: false,
          error: "MISSING_ORDER_ID",
          message: `Coinbase reported success for ${clientOrderId} without an order id; look the order up before retrying`,
          previewFailureReason: "",
          newOrderFailureReason: "",
        };
      }
      return {
        success: true,
        orderId,
        clientOrderId: body.success_response?.client_order_id || clientOrderId,
      };
    }
    const err = body.error_response;
    return {
      success: false,
      error: err?.error || body.failure_reason || "UNKNOWN_FAILURE_REASON",
      message: err?.message || err?.error_details || "",
      previewFailureReason: err?.preview_failure_reason ?? "",
      newOrderFailureReason: err?.new_order_failure_reason ?? "",
    };
  }

  /** undefined when Coinbase does not know the order id */
  async getOrder(orderId: string): Promise<OrderWire | undefined> {
    try {
      const body = await this.http.request({
        method: "GET",
        path: `/orders/historical/${encodeURIComponent(orderId)}`,
        private: true,
        schema: GetOrderResponseWire,
      });
      return body.order;
    } catch (error) {
      if (isOrderNotFound(error)) return undefined;
      throw error;
    }
  }

  async listOrders(filter: {
    orderIds?: readonly string[];
    productIds?: readonly string[];
    statuses?: readonly string[];
    startDate?: string;
    pageSize?: number;
  }): Promise<OrderWire[]> {
    const orders: OrderWire[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.http.request({
        method: "GET",
        path: "/orders/historical/batch",
        query: {
          order_ids: filter.orderIds,
          product_ids: filter.productIds,
          order_status: filter.statuses,
          start_date: filter.startDate,
          limit: filter.pageSize ?? 100,
          cursor,
        },
        private: true,
        schema: ListOrdersResponseWire,
      });
      orders.push(...body.orders);
      if (!body.has_next || !body.cursor) break;
      cursor = body.cursor;
    }
    return orders;
  }

  async listFills(filter: {
    orderIds?: readonly string[];
    productIds?: readonly string[];
    pageSize?: number;
  }) {
    const fills: FillWire[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.http.request({
        method: "GET",
        path: "/orders/historical/fills",
        query: {
          order_ids: filter.orderIds,
          product_ids: filter.productIds,
          limit: filter.pageSize ?? 100,
          cursor,
        },
        private: true,
        schema: ListFillsResponseWire,
      });
      fills.push(...body.fills);
      if (!body.cursor) break;
      cursor = body.cursor;
    }
    return fills;
  }

  async cancelOrders(orderIds: readonly string[]) {
    const body = await this.http.request({
      method: "POST",
      path: "/orders/batch_cancel",
      body: { order_ids: orderIds },
      private: true,
      schema: BatchCancelResponseWire,
    });
    return body.results;
  }
}

function isOrderNotFound(error: unknown): boolean {
  if (!(error instanceof CoinbaseApiError)) return false;
  if (error.status === 404) return true;
  return error.status === 400 && /not found/i.test(error.detail ?? "");
}
