"""The subset of Shopify's GraphQL Admin schema the sandbox serves, as SDL.

Hand-written from Shopify's GraphQL Admin reference (shopify.dev/docs/api/admin-graphql): the
types, fields, arguments and enum values keep Shopify's names, so a query that selects a field
Shopify does not have fails here too, and a query that works here works on a real store. Only
what the agent uses (and a few neighbours) is declared. Simplifications, each harmless to a
client: `DiscountApplication` is one object type (an interface on Shopify), `CountryCode` and
`CurrencyCode` are strings (enums on Shopify), `OrderTransaction.parentTransaction` and
`Fulfillment.trackingInfo` are plain objects and lists. Where versions differ, the union is served
(`orderCancel` takes the older `refund` and the newer `refundMethod`; a webhook subscription has
the older `endpoint` and the newer `uri`).
"""

from __future__ import annotations

SDL = """
scalar DateTime
scalar Decimal
scalar Money
scalar URL
scalar UnsignedInt64
scalar CountryCode
scalar CurrencyCode

type Query {
  order(id: ID!): Order
  orders(first: Int, after: String, last: Int, before: String, query: String,
         sortKey: OrderSortKeys = ID, reverse: Boolean = false): OrderConnection!
  product(id: ID!): Product
  job(id: ID!): Job
  currentAppInstallation: AppInstallation!
  webhookSubscriptions(first: Int, after: String, topics: [WebhookSubscriptionTopic!], uri: String,
                       callbackUrl: URL): WebhookSubscriptionConnection!
}

type Mutation {
  orderUpdate(input: OrderInput!): OrderUpdatePayload
  refundCreate(input: RefundInput!): RefundCreatePayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refund: Boolean,
              refundMethod: OrderCancelRefundMethodInput, restock: Boolean!,
              notifyCustomer: Boolean = false, staffNote: String): OrderCancelPayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!,
                            webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
}

enum OrderSortKeys { CREATED_AT CUSTOMER_NAME FINANCIAL_STATUS FULFILLMENT_STATUS ID ORDER_NUMBER
  PROCESSED_AT RELEVANCE TOTAL_PRICE UPDATED_AT }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING
  REFUNDED VOIDED }
enum OrderDisplayFulfillmentStatus { FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT
  REQUEST_DECLINED RESTOCKED SCHEDULED UNFULFILLED }
enum OrderTransactionKind { AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
enum FulfillmentStatus { CANCELLED ERROR FAILURE OPEN PENDING SUCCESS }
enum FulfillmentDisplayStatus { ATTEMPTED_DELIVERY CANCELED CONFIRMED DELIVERED FAILURE FULFILLED IN_TRANSIT
  LABEL_PRINTED LABEL_PURCHASED LABEL_VOIDED MARKED_AS_FULFILLED NOT_DELIVERED OUT_FOR_DELIVERY PICKED_UP
  READY_FOR_PICKUP SUBMITTED }
enum RefundLineItemRestockType { CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }
enum DiscountApplicationTargetSelection { ALL ENTITLED EXPLICIT }
enum DiscountApplicationTargetType { LINE_ITEM SHIPPING_LINE }
enum DiscountApplicationAllocationMethod { ACROSS EACH ONE }
enum OrderCancelUserErrorCode { INVALID NOT_FOUND NO_REFUND_PERMISSION }
enum WebhookSubscriptionFormat { JSON XML }
enum WebhookSubscriptionTopic { APP_UNINSTALLED APP_SCOPES_UPDATE SHOP_UPDATE CARTS_CREATE CARTS_UPDATE
  CHECKOUTS_CREATE CHECKOUTS_UPDATE CHECKOUTS_DELETE ORDERS_CREATE ORDERS_UPDATED ORDERS_PAID ORDERS_CANCELLED
  ORDERS_FULFILLED ORDERS_PARTIALLY_FULFILLED ORDERS_EDITED ORDERS_DELETE ORDER_TRANSACTIONS_CREATE
  REFUNDS_CREATE FULFILLMENTS_CREATE FULFILLMENTS_UPDATE CUSTOMERS_CREATE CUSTOMERS_UPDATE CUSTOMERS_DELETE
  CUSTOMERS_ENABLE CUSTOMERS_DISABLE PRODUCTS_CREATE PRODUCTS_UPDATE PRODUCTS_DELETE COLLECTIONS_CREATE
  COLLECTIONS_UPDATE COLLECTIONS_DELETE }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

type Attribute { key: String! value: String }

type MailingAddress {
  id: ID
  firstName: String
  lastName: String
  name: String
  company: String
  address1: String
  address2: String
  city: String
  province: String
  provinceCode: String
  zip: String
  country: String
  countryCodeV2: CountryCode
  phone: String
}

type Customer {
  id: ID!
  legacyResourceId: UnsignedInt64!
  email: String
  firstName: String
  lastName: String
  displayName: String!
  phone: String
}

type Product {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  handle: String!
  tags: [String!]!
}

type TaxLine { title: String rate: Float priceSet: MoneyBag! }

type DiscountApplication {
  index: Int!
  allocationMethod: DiscountApplicationAllocationMethod!
  targetSelection: DiscountApplicationTargetSelection!
  targetType: DiscountApplicationTargetType!
}

type DiscountAllocation { allocatedAmountSet: MoneyBag! discountApplication: DiscountApplication! }

type LineItem {
  id: ID!
  name: String!
  title: String!
  variantTitle: String
  sku: String
  quantity: Int!
  currentQuantity: Int!
  refundableQuantity: Int!
  unfulfilledQuantity: Int!
  requiresShipping: Boolean!
  originalUnitPriceSet: MoneyBag!
  discountedUnitPriceSet: MoneyBag!
  totalDiscountSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]!
  taxLines(first: Int): [TaxLine!]!
  product: Product
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }

type ShippingLine {
  id: ID
  title: String!
  code: String
  originalPriceSet: MoneyBag!
  discountedPriceSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]!
  taxLines: [TaxLine!]!
}
type ShippingLineEdge { cursor: String! node: ShippingLine! }
type ShippingLineConnection { edges: [ShippingLineEdge!]! nodes: [ShippingLine!]! pageInfo: PageInfo! }

type FulfillmentTrackingInfo { company: String number: String url: URL }

type FulfillmentLineItem { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentLineItemEdge { cursor: String! node: FulfillmentLineItem! }
type FulfillmentLineItemConnection {
  edges: [FulfillmentLineItemEdge!]! nodes: [FulfillmentLineItem!]! pageInfo: PageInfo!
}

type Fulfillment {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  status: FulfillmentStatus!
  displayStatus: FulfillmentDisplayStatus
  createdAt: DateTime!
  updatedAt: DateTime!
  inTransitAt: DateTime
  deliveredAt: DateTime
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(first: Int, after: String): FulfillmentLineItemConnection!
}

type OrderTransaction {
  id: ID!
  kind: OrderTransactionKind!
  status: OrderTransactionStatus!
  gateway: String
  amountSet: MoneyBag!
  createdAt: DateTime!
  processedAt: DateTime
  errorCode: String
  parentTransaction: OrderTransaction
}
type OrderTransactionEdge { cursor: String! node: OrderTransaction! }
type OrderTransactionConnection {
  edges: [OrderTransactionEdge!]! nodes: [OrderTransaction!]! pageInfo: PageInfo!
}

type RefundLineItem {
  id: ID
  lineItem: LineItem!
  quantity: Int!
  restockType: RefundLineItemRestockType!
  restocked: Boolean!
  subtotalSet: MoneyBag!
  totalTaxSet: MoneyBag!
  priceSet: MoneyBag!
}
type RefundLineItemEdge { cursor: String! node: RefundLineItem! }
type RefundLineItemConnection {
  edges: [RefundLineItemEdge!]! nodes: [RefundLineItem!]! pageInfo: PageInfo!
}

type RefundShippingLine { subtotalAmountSet: MoneyBag! taxAmountSet: MoneyBag! }
type RefundShippingLineEdge { cursor: String! node: RefundShippingLine! }
type RefundShippingLineConnection {
  edges: [RefundShippingLineEdge!]! nodes: [RefundShippingLine!]! pageInfo: PageInfo!
}

type Refund {
  id: ID!
  legacyResourceId: UnsignedInt64!
  createdAt: DateTime
  note: String
  totalRefundedSet: MoneyBag!
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
  refundShippingLines(first: Int, after: String): RefundShippingLineConnection!
  transactions(first: Int, after: String): OrderTransactionConnection!
}

type SuggestedOrderTransaction {
  amountSet: MoneyBag!
  maximumRefundableSet: MoneyBag
  gateway: String
  kind: OrderTransactionKind!
  parentTransaction: OrderTransaction
}

type ShippingRefund { amountSet: MoneyBag! maximumRefundableSet: MoneyBag! taxSet: MoneyBag! }

type SuggestedRefund {
  amountSet: MoneyBag!
  maximumRefundableSet: MoneyBag!
  subtotalSet: MoneyBag!
  totalTaxSet: MoneyBag!
  shipping: ShippingRefund!
  refundLineItems: [RefundLineItem!]!
  suggestedTransactions: [SuggestedOrderTransaction!]!
}

type Order {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  email: String
  createdAt: DateTime!
  processedAt: DateTime!
  updatedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closedAt: DateTime
  closed: Boolean!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: CurrencyCode!
  totalPriceSet: MoneyBag!
  subtotalPriceSet: MoneyBag
  totalTaxSet: MoneyBag
  totalDiscountsSet: MoneyBag
  totalShippingPriceSet: MoneyBag!
  totalRefundedSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  note: String
  tags: [String!]!
  customAttributes: [Attribute!]!
  paymentGatewayNames: [String!]!
  shippingAddress: MailingAddress
  billingAddress: MailingAddress
  customer: Customer
  lineItems(first: Int, after: String): LineItemConnection!
  shippingLines(first: Int, after: String): ShippingLineConnection!
  fulfillments(first: Int): [Fulfillment!]!
  refunds(first: Int): [Refund!]!
  transactions(first: Int): [OrderTransaction!]!
  suggestedRefund(refundLineItems: [RefundLineItemInput!], shippingAmount: Money, refundShipping: Boolean,
                  suggestFullRefund: Boolean = false): SuggestedRefund
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

type AccessScope { handle: String! description: String }
type AppInstallation { id: ID! accessScopes: [AccessScope!]! }

type Job { id: ID! done: Boolean! }

type UserError { field: [String!] message: String! }
type OrderCancelUserError { field: [String!] message: String! code: OrderCancelUserErrorCode }

type ApiVersion { handle: String! }
type WebhookHttpEndpoint { callbackUrl: URL! }
type WebhookEventBridgeEndpoint { arn: String! }
type WebhookPubSubEndpoint { pubSubProject: String! pubSubTopic: String! }
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint | WebhookEventBridgeEndpoint | WebhookPubSubEndpoint
type WebhookSubscription {
  id: ID!
  legacyResourceId: UnsignedInt64!
  topic: WebhookSubscriptionTopic!
  uri: String!
  endpoint: WebhookSubscriptionEndpoint!
  filter: String
  format: WebhookSubscriptionFormat!
  apiVersion: ApiVersion!
  createdAt: DateTime!
  updatedAt: DateTime!
}
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection {
  edges: [WebhookSubscriptionEdge!]! nodes: [WebhookSubscription!]! pageInfo: PageInfo!
}

input AttributeInput { key: String! value: String! }
input MailingAddressInput {
  firstName: String
  lastName: String
  company: String
  address1: String
  address2: String
  city: String
  provinceCode: String
  zip: String
  countryCode: CountryCode
  phone: String
}
input OrderInput {
  id: ID!
  note: String
  tags: [String!]
  email: String
  shippingAddress: MailingAddressInput
  customAttributes: [AttributeInput!]
}
input RefundLineItemInput { lineItemId: ID! quantity: Int! restockType: RefundLineItemRestockType locationId: ID }
input ShippingRefundInput { amount: Money fullRefund: Boolean }
input OrderTransactionInput { amount: Money! gateway: String! kind: OrderTransactionKind! orderId: ID!
  parentId: ID }
input RefundInput {
  orderId: ID!
  note: String
  notify: Boolean
  currency: CurrencyCode
  shipping: ShippingRefundInput
  refundLineItems: [RefundLineItemInput!]
  transactions: [OrderTransactionInput!]
}
input OrderCancelRefundMethodInput { originalPaymentMethodsRefund: Boolean }
input WebhookSubscriptionInput { uri: String callbackUrl: URL format: WebhookSubscriptionFormat filter: String }

type OrderUpdatePayload { order: Order userErrors: [UserError!]! }
type RefundCreatePayload { order: Order refund: Refund userErrors: [UserError!]! }
enum OrderCancelStatus { CANCELED FAILED IN_PROGRESS }
type OrderCancelJobResult {
  id: ID!
  done: Boolean!
  status: OrderCancelStatus!
  errors: [OrderCancelUserError!]!
  order: Order
}
type OrderCancelPayload {
  job: Job
  jobResult: OrderCancelJobResult
  orderCancelUserErrors: [OrderCancelUserError!]!
  userErrors: [UserError!]!
}
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }
"""
