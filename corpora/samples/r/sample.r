# Inventory analysis helpers
library(stats)

DEFAULT_THRESHOLD <- 10L

#' Build an inventory data frame
make_inventory <- function(skus, quantities, prices = rep(1.0, length(skus))) {
  if (length(skus) != length(quantities)) {
    stop("skus and quantities must have the same length")
  }
  data.frame(
    sku = skus,
    quantity = as.integer(quantities),
    price = prices,
    stringsAsFactors = FALSE
  )
}

classify <- function(qty, threshold = DEFAULT_THRESHOLD) {
  if (is.na(qty)) {
    return(NA_character_)
  } else if (qty == 0) {
    "empty"
  } else if (qty < threshold) {
    "low"
  } else {
    "in_stock"
  }
}

summarise_inventory <- function(inv) {
  inv$status <- vapply(inv$quantity, classify, character(1))
  inv$value <- inv$quantity * inv$price
  totals <- tapply(inv$value, inv$status, sum)
  list(
    items = nrow(inv),
    total_value = sum(inv$value, na.rm = TRUE),
    by_status = totals
  )
}

inv <- make_inventory(
  c("A-1", "B-2", "C-3", "D-4"),
  c(120, 4, 0, 37),
  c(0.25, 3.5, 7, 1.2e1)
)

result <- tryCatch(
  summarise_inventory(inv),
  error = function(e) {
    message("failed: ", conditionMessage(e))
    NULL
  },
  warning = function(w) NULL
)

for (i in seq_len(nrow(inv))) {
  row <- inv[i, ]
  cat(sprintf("%-5s %4d %8.2f\n", row$sku, row$quantity, row$price))
}

count <- 0
while (count < 3) {
  count <- count + 1
}

low <- Filter(function(q) q < DEFAULT_THRESHOLD, inv$quantity)
squares <- sapply(1:5, function(x) x^2)
inv[inv$quantity > 10 & !is.na(inv$price), "price"] <- 0.9
print(result$total_value)
