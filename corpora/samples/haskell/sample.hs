{-# LANGUAGE ScopedTypeVariables #-}
-- | A small bank-account ledger with validation and reporting.
module Ledger
  ( Account (..)
  , Transaction (..)
  , applyTransaction
  , summarize
  ) where

import qualified Data.Map.Strict as Map
import Data.List (foldl', sortOn)
import Control.Monad (forM_, unless, when)
import Text.Printf (printf)

-- | Kinds of ledger entries.
data Transaction
  = Deposit Double
  | Withdraw Double
  | Transfer String Double
  deriving (Show, Eq)

data Account = Account
  { accountId :: String
  , owner     :: String
  , balance   :: Double
  } deriving (Show, Eq)

newtype LedgerError = LedgerError String
  deriving Show

class Describable a where
  describe :: a -> String

instance Describable Transaction where
  describe (Deposit n)    = "deposit of " ++ show n
  describe (Withdraw n)   = "withdrawal of " ++ show n
  describe (Transfer t n) = "transfer of " ++ show n ++ " to " ++ t

-- | Apply a single transaction, failing on overdraft.
applyTransaction :: Account -> Transaction -> Either LedgerError Account
applyTransaction acct tx = case tx of
  Deposit n
    | n <= 0    -> Left (LedgerError "deposit must be positive")
    | otherwise -> Right acct { balance = balance acct + n }
  Withdraw n -> debit n
  Transfer _ n -> debit n
  where
    debit n
      | n > balance acct = Left (LedgerError ("insufficient funds in " ++ accountId acct))
      | otherwise        = Right acct { balance = balance acct - n }

-- | Total amount moved per kind of transaction.
summarize :: [Transaction] -> Map.Map String Double
summarize = foldl' step Map.empty
  where
    step m (Deposit n)    = Map.insertWith (+) "deposit" n m
    step m (Withdraw n)   = Map.insertWith (+) "withdraw" n m
    step m (Transfer _ n) = Map.insertWith (+) "transfer" n m

main :: IO ()
main = do
  let acct = Account { accountId = "ACC-42", owner = "Ada", balance = 100.0 }
      txs  = [Deposit 50, Withdraw 30.5, Transfer "ACC-7" 20, Withdraw 500]
  forM_ txs $ \tx -> do
    putStrLn ("Processing " ++ describe tx)
    case applyTransaction acct tx of
      Left (LedgerError msg) -> putStrLn ("  error: " ++ msg)
      Right a -> printf "  new balance: %.2f\n" (balance a)
  let totals = sortOn snd (Map.toList (summarize txs))
  unless (null totals) $
    forM_ totals $ \(k, v) ->
      when (v > 0) $ printf "%-10s %8.2f\n" k v
